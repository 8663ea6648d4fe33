"""The audit trail needs PostgreSQL; on SQLite (make run's default) the app
still migrates and works, and the trail simply stays empty."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from django.utils import timezone
from customers.audit_actor import acting_as
from crm.audit.models import AuditEvent
from customers import services
from customers.data_rights import erase_customer
with acting_as(None, origin="sqlite-check"):
    customer = services.create_customer(last_name="Lite", email="lite@example.com")
    services.update_customer(customer=customer, notes="changed", email_opt_in=True)
    services.record_purchase(
        customer=customer, amount="5.00", occurred_at=timezone.now()
    )
    erase_customer(customer=customer, by=None)
print("events", AuditEvent.objects.count())
"""


def test_the_app_migrates_and_runs_on_sqlite_without_an_audit_trail(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crm.sqlite3'}",
        "REDIS_URL": "",
        "DEBUG": "true",
        "CACHE_DIR": str(tmp_path / "cache"),
        "CELERY_BROKER_DIR": str(tmp_path / "broker"),
        "ENV_FILE": str(tmp_path / "no.env"),
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    assert manage("shell", "-c", SCRIPT).strip().splitlines()[-1] == "events 0"
