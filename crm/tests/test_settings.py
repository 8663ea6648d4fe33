"""Settings read from the environment, checked in a fresh interpreter each time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), "
    "'broker': settings.CELERY_BROKER_URL, "
    "'cache': settings.CACHES['default']['BACKEND'], 'debug': settings.DEBUG, "
    "'sessions': settings.SESSION_ENGINE}))"
)


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "ENV_FILE": str(ROOT / "no-such.env"),  # ignore a developer's .env
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_are_sqlite_and_a_broker_that_needs_no_server():
    result = load_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"].endswith("db.sqlite3")
    assert found["broker"] == "filesystem://"
    assert found["cache"].endswith("FileBasedCache")
    assert found["sessions"].endswith(".db")


def test_database_url_and_redis_url_switch_to_postgresql_and_redis():
    result = load_settings(
        DEBUG="true",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/crm",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["broker"] == "redis://127.0.0.1:6379/3"
    assert found["cache"].endswith("RedisCache")
    assert found["sessions"].endswith("cached_db")


def test_debug_is_off_by_default_and_then_the_development_key_is_refused():
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("debug", ["false", "0", "off"])
def test_production_settings_load_with_a_real_secret_key(debug):
    result = load_settings(DEBUG=debug, SECRET_KEY="x" * 60, ALLOWED_HOSTS="crm.test")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is False
