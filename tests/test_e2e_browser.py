"""End to end in a real headless browser: log in, find a customer, log a call.

Runs Debian's chromium (/usr/bin/chromium) through Playwright against pytest-django's
live server. CI installs chromium, so a missing browser fails the test.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect, sync_playwright

from customers.models import Interaction
from customers.roles import STAFF
from customers.tests.factories import CustomerFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "spring-order-2024!"
SUBJECT = "Called about the spring order"


@contextmanager
def chromium_page() -> Iterator[Page]:
    # A failure, not a skip: CI installs chromium, so its absence is a broken setup.
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get install chromium) to run the end-to-end tests."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_staff_member_finds_a_customer_and_logs_a_call(roles, live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls made
    # here while it runs are still plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    user = UserFactory(username="sam", password=PASSWORD)
    user.groups.add(Group.objects.get(name=STAFF))
    zoe = CustomerFactory(first_name="Zoë", last_name="Åberg")
    CustomerFactory(first_name="Bob", last_name="Baker")

    with chromium_page() as page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "sam")
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{live_server.url}/customers/")

        page.fill("input[name=q]", "aberg")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"/customers/\?q=aberg(&|$)"))
        results = page.locator("table tbody")
        expect(results.get_by_role("link")).to_have_count(1)
        expect(results).not_to_contain_text("Bob Baker")

        results.get_by_role("link", name="Zoë Åberg").click()
        expect(page).to_have_url(f"{live_server.url}/customers/{zoe.pk}/")

        page.get_by_role("tab", name="Log interaction").click()
        form = page.locator("#log-interaction")
        form.locator("select[name=kind]").select_option("call")
        form.locator("input[name=subject]").fill(SUBJECT)
        form.get_by_role("button", name="Log it").click()

        expect(page).to_have_url(f"{live_server.url}/customers/{zoe.pk}/")
        expect(page.get_by_role("alert")).to_contain_text("The interaction was logged.")
        newest = page.locator(".timeline-entry").first
        expect(newest).to_contain_text(SUBJECT)
        expect(newest.locator(".badge")).to_have_text("Call")
        expect(newest).to_contain_text("sam")

    interaction = Interaction.objects.get(customer=zoe)
    assert (interaction.kind, interaction.subject) == ("call", SUBJECT)
    assert interaction.by == user
