"""End to end: an Owner brings a purchases CSV from another system into the CRM.

Preview, import, see the customers and their figures; the same file again changes
nothing. Then a large file: the page shows a progress bar that a real Celery
worker moves, without reloading, and ends with the report.
"""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from playwright.sync_api import expect

from customers.models import Customer, ImportJob, Purchase
from customers.roles import OWNER
from customers.tests.factories import UserFactory

from .test_e2e_browser import PASSWORD, chromium_page

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = (
    "customer;occurred_at;amount;reference;channel\n"
    "ana@example.com;2025-03-01;19.90;SHOP-1;web\n"
    "ana@example.com;2025-04-11T10:30:00+02:00;45.00;SHOP-2;web\n"
    "BOB-7;2025-04-12;12.50;SHOP-3;till\n"
    "BOB-7;12/04/2025;8.00;SHOP-4;till\n"
)


def log_in_as_owner(page, live_server) -> None:
    user = UserFactory(username="olive", password=PASSWORD)
    user.groups.add(Group.objects.get(name=OWNER))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "olive")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()


def upload(page, live_server, path: Path) -> None:
    page.goto(f"{live_server.url}/customers/import/")
    page.select_option("select[name=kind]", "purchases")
    page.set_input_files("input[name=file]", str(path))
    page.check("input[name=create_missing]")
    page.get_by_role("button", name="Preview").click()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_owner_previews_imports_and_reimports_a_purchases_file(
    roles, live_server, monkeypatch, tmp_path, settings
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / "shop-export.csv"
    path.write_text(EXPORTED, encoding="utf-8-sig")  # with a BOM, as Excel saves

    with chromium_page() as page:
        log_in_as_owner(page, live_server)
        upload(page, live_server, path)
        expect(page.locator(".alert")).to_contain_text("nothing has been written yet")
        expect(page.locator("#rejected")).to_contain_text("12/04/2025")
        assert not Purchase.objects.exists()

        page.get_by_role("button", name="Import 3 rows now").click()
        expect(page.locator(".alert")).to_contain_text("3 were created")
        ana = Customer.objects.get(email="ana@example.com")
        assert (ana.orders_count, ana.total_spent) == (2, Decimal("64.90"))

        page.goto(f"{live_server.url}/customers/{ana.pk}/")
        expect(page.locator("body")).to_contain_text("64.90")
        expect(
            page.locator("#purchase-" + str(ana.purchases.first().pk))
        ).to_be_visible()

        upload(page, live_server, path)
        expect(page.locator(".alert")).to_contain_text("0 would be created")
        expect(page.get_by_text("Nothing new to import.")).to_be_visible()
    assert Purchase.objects.count() == 3


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_large_upload_shows_live_progress_from_a_real_worker(
    roles, live_server, monkeypatch, tmp_path, settings
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_INLINE_MAX_KB = 0
    rows = 300
    path = tmp_path / "customers.csv"
    path.write_text(
        "reference,first_name,email\n"
        + "".join(f"P-{n},Person {n},p{n}@example.com\n" for n in range(rows)),
        encoding="utf-8",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo",
         "--loglevel=warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "crm.settings_test",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/"
            + connection.settings_dict["NAME"],
            "REDIS_URL": settings.REDIS_URL,
            "MEDIA_ROOT": str(tmp_path),
        },
    )  # fmt: skip
    try:
        with chromium_page() as page:
            log_in_as_owner(page, live_server)
            page.goto(f"{live_server.url}/customers/import/")
            page.select_option("select[name=kind]", "customers")
            page.set_input_files("input[name=file]", str(path))
            page.get_by_role("button", name="Preview").click()
            expect(page.locator("#import-progress")).to_be_visible()
            # The page reloads itself when the worker has checked every row.
            expect(page.locator(".alert")).to_contain_text(
                f"{rows} would be created", timeout=60_000
            )
            page.get_by_role("button", name=f"Import {rows} rows now").click()
            expect(page.locator(".alert")).to_contain_text(
                f"{rows} were created", timeout=60_000
            )
    finally:
        worker.terminate()
        print(worker.communicate(timeout=30)[0])
    assert Customer.objects.count() == rows
    assert ImportJob.objects.get().status == ImportJob.Status.DONE
