"""A backup restored into a fresh database is the same shop: the ledger audits
clean, the figures are the same, and the app serves its pages from it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from loyalty import services as loyalty
from loyalty.models import Membership
from loyalty.tests.factories import RewardFactory, buy, run_program

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("roles")]

SERVE = """
from django.contrib.auth import get_user_model
from django.test import Client
from customers.models import Customer
client = Client()
client.force_login(get_user_model().objects.get(username="olive"))
customer = Customer.objects.get(last_name="Restored")
for path in ("/customers/", f"/customers/{customer.pk}/", "/loyalty/", "/dashboard/"):
    response = client.get(path, HTTP_HOST="testserver")
    print(path, response.status_code, "Restored" in response.content.decode())
"""


def _manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "crm.settings_test",
        "ALLOWED_HOSTS": "testserver",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def empty_database():
    settings = connection.settings_dict
    name = f"test_restore_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(
        host=settings["HOST"] or "localhost",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    user = settings["USER"] or "postgres"
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    try:
        yield f"postgres://{user}@{host}:{port}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_backup_restored_into_a_fresh_database_audits_clean_and_serves(
    tmp_path, owner_user, empty_database
):
    run_program()
    customers = [CustomerFactory(last_name="Restored")] + CustomerFactory.create_batch(
        4
    )
    for number, customer in enumerate(customers):
        buy(customer, 100 + number * 25)
    loyalty.redeem(customers[0], RewardFactory(cost=50))
    figures = sorted(Customer.objects.values_list("pk", "orders_count", "total_spent"))
    balances = sorted(Membership.objects.values_list("customer_id", "balance"))

    dump = tmp_path / "shop.dump"
    call_command("backup", str(dump))
    assert dump.stat().st_size > 0

    restored = _manage(empty_database, "restore", str(dump))
    assert restored.returncode == 0, restored.stderr
    audit = _manage(empty_database, "loyalty_audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "All 5 balances match" in audit.stdout
    migrate = _manage(empty_database, "migrate", "--check")
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    check = _manage(
        empty_database,
        "shell",
        "--no-imports",
        "-c",
        "from customers.models import Customer; from loyalty.models import Membership;"
        "print(sorted(Customer.objects.values_list('pk','orders_count','total_spent')));"
        "print(sorted(Membership.objects.values_list('customer_id','balance')))",
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.splitlines() == [str(figures), str(balances)]

    served = _manage(empty_database, "shell", "--no-imports", "-c", SERVE)
    assert served.returncode == 0, served.stderr
    lines = served.stdout.splitlines()
    customer = Customer.objects.get(last_name="Restored")
    assert lines == [
        "/customers/ 200 True",
        f"/customers/{customer.pk}/ 200 True",
        "/loyalty/ 200 False",
        "/dashboard/ 200 False",
    ]


def test_restore_refuses_a_database_that_holds_data(tmp_path):
    dump = tmp_path / "shop.dump"
    call_command("backup", str(dump))
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(dump))
