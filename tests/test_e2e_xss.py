"""Stored and reflected XSS tried in a real browser: payloads in every text a
user can type about a customer, on every page that shows them, executed 0 times.

Each payload calls window.__xss(label) (defined by an init script) and some
call alert(); the test counts both, and every Content-Security-Policy
violation. It runs twice: with the site's CSP, and with the browser told to
ignore it (bypass_csp), so that escaping alone is shown to hold, not just CSP.

Other apps' pages that show customer text are added to EXTRA_PAGES.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import sync_playwright

from crm.api.services import create_api_token
from customers import services
from customers.models import Customer, Purchase
from customers.roles import OWNER
from customers.tests.factories import UserFactory

from .test_e2e_browser import CHROMIUM, CHROMIUM_ARGS

PASSWORD = "spring-order-2024!"

# {id} is replaced by a label naming the field, so a hit says where it leaked.
PAYLOADS = [
    "<script>__xss('{id}')</script>",
    "\"><img src=x onerror=__xss('{id}')>",
    "'><svg onload=__xss('{id}')>",
    "\" autofocus onfocus=__xss('{id}') x=\"",
    "javascript:__xss('{id}')",
    "</textarea></title><script>alert('{id}')</script>",
]
# Quoted local parts make these valid e-mail addresses.
EMAIL_PAYLOADS = [
    "\"<script>__xss('{id}')</script>\"@example.com",
    "\"<svg/onload=__xss('{id}')>\"@example.com",
]
RECORDER = """
window.__hits = [];
window.__xss = (label) => window.__hits.push(String(label));
"""

# Pages of other apps that show customer text: (path builder, label).
# e.g. lambda data: f"/loyalty/members/{data.customers[0].pk}/"
EXTRA_PAGES: list[Callable] = []


def fit(template: str, label: str, limit: int) -> str | None:
    value = template.format(id=label)
    return value if len(value) <= limit else None


class Data:
    """Customers whose every text field holds a payload, and their history."""

    def __init__(self, owner) -> None:
        self.customers: list[Customer] = []
        self.purchases: list[Purchase] = []
        self.follow_ups = []
        self.tags = []
        self.segments = []
        today = timezone.localdate()
        for n, payload in enumerate(PAYLOADS):

            def text(field: str, limit: int = 10_000, n=n, payload=payload):
                return fit(payload, f"{field}{n}", limit) or f"{field}{n}"

            email_payload = EMAIL_PAYLOADS[n % len(EMAIL_PAYLOADS)]
            customer = services.create_customer(
                by=owner,
                first_name=text("fn", 100),
                last_name=text("ln", 100),
                email=email_payload.format(id=f"em{n}"),
                phone="1 " + text("ph", 30),
                reference=text("rf", 64),
                notes=text("no") + "\nsecond line " + text("no2"),
                owner=owner,
            )
            self.customers.append(customer)
            tag = services.create_tag(name=text("tg", 50))
            customer.tags.add(tag)
            self.tags.append(tag)
            interaction = services.log_interaction(
                customer=customer,
                kind="call",
                subject=text("su", 200),
                body=text("bo"),
                by=owner,
                follow_up_on=today,
                follow_up_assignee=owner,
                follow_up_note=text("fu", 200),
            )
            self.follow_ups.append(interaction.follow_ups.get())
            purchase, _ = services.record_purchase(
                customer=customer,
                amount="12.50",
                occurred_at=timezone.now() - timedelta(days=1),
                reference=text("pr", 64),
                channel=text("ch", 32),
                by=owner,
            )
            self.purchases.append(purchase)
            services.record_feedback(
                customer=customer, kind="csat", score=4, comment=text("co"), by=owner
            )
            self.segments.append(
                services.save_segment(
                    name=text("sg", 100), params={"q": text("sq", 100)}, by=owner
                )
            )
            create_api_token(user=owner, name=text("tk", 100))
            AccessAttempt.objects.create(
                username=text("lo", 100),
                ip_address=f"192.0.2.{n + 1}",
                user_agent=text("ua", 200),
                failures_since_start=9,
                attempt_time=timezone.now(),
                get_data="",
                post_data="",
                http_accept="text/html",
                path_info="/accounts/login/",
            )

    def pages(self) -> list[str]:
        q = PAYLOADS[1].format(id="qs")
        urls = [
            "/customers/",
            f"/customers/?q={q}",
            f"/customers/?sort={q}&tag={q}",
            "/customers/needs-follow-up/",
            "/customers/follow-ups/",
            "/customers/tags/",
            "/customers/segments/",
            f"/customers/segments/new/?q={q}",
            "/customers/import/",
            "/settings/audit/",
            f"/settings/audit/?row={q}",
            "/settings/security/lockouts/",
            "/settings/api-tokens/",
            "/api/v1/customers/",
            f"/accounts/login/?next={PAYLOADS[4].format(id='nx')}",
            # Other apps' pages that show customers' names and texts.
            "/loyalty/",
            "/communications/",
            "/communications/upcoming/",
            "/dashboard/",
            "/dashboard/customers/active/",
            "/dashboard/customers/new/",
        ]
        for customer, purchase, follow_up, tag, segment in zip(
            self.customers,
            self.purchases,
            self.follow_ups,
            self.tags,
            self.segments,
            strict=True,
        ):
            pk = customer.pk
            urls += [
                f"/customers/{pk}/",
                f"/customers/{pk}/edit/",
                f"/customers/{pk}/merge/",
                f"/customers/{pk}/erase/",
                f"/customers/{pk}/purchases/{purchase.pk}/refund/",
                f"/customers/follow-ups/{follow_up.pk}/complete/",
                f"/customers/tags/{tag.pk}/edit/",
                f"/customers/tags/{tag.pk}/delete/",
                f"/customers/segments/{segment.pk}/",
                f"/customers/segments/{segment.pk}/delete/",
                f"/api/v1/customers/{pk}/",
                f"/api/v1/customers/{pk}/interactions/",
                f"/api/v1/customers/{pk}/purchases/",
                f"/loyalty/members/{pk}/",
                f"/loyalty/members/{pk}/enroll/",
                f"/loyalty/members/{pk}/adjust/",
            ]
        urls += [build(self) for build in EXTRA_PAGES]
        return urls


def visit_everything(browser, base_url: str, data: Data, *, bypass_csp: bool):
    context = browser.new_context(bypass_csp=bypass_csp)
    context.add_init_script(RECORDER)
    page = context.new_page()
    page.set_default_timeout(15_000)
    dialogs: list[str] = []
    violations: list[str] = []
    hits: list[tuple[str, list[str]]] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def note_violation(message) -> None:
        if "Content Security Policy" not in message.text:
            return
        # DRF's browsable API pages carry two style="float: right" attributes;
        # the policy drops them (a cosmetic loss) and keeps style-src strict.
        on_api = page.url.startswith(f"{base_url}/api/")
        if on_api and "inline style" in message.text:
            return
        violations.append(f"{page.url}: {message.text}")

    page.on("console", note_violation)

    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", "olive")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/customers/")

    shown_payloads = 0
    for url in data.pages():
        response = page.goto(f"{base_url}{url}")
        assert response is not None and response.status < 500, url
        page.wait_for_load_state("load")
        page.mouse.move(5, 5)
        page.mouse.move(400, 300)  # hover handlers, had any slipped through
        found = page.evaluate("window.__hits")
        if found:
            hits.append((url, found))
        if "__xss(" in page.inner_text("body"):
            shown_payloads += 1

    # The import preview shows the rejected values of an uploaded file.
    page.goto(f"{base_url}/customers/import/")
    page.select_option("select[name=kind]", "customers")
    payload = PAYLOADS[1].format(id="csv")
    page.set_input_files(
        "input[name=file]",
        {
            "name": "people.csv",
            "mimeType": "text/csv",
            "buffer": f"reference,email\nX-1,{payload}\n".encode(),
        },
    )
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state("load")
    if page.evaluate("window.__hits"):
        hits.append(("import preview", page.evaluate("window.__hits")))
    assert "__xss(" in page.inner_text("body")  # the value is shown, as text
    context.close()
    return hits, dialogs, violations, shown_payloads


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_stored_and_reflected_payloads_never_execute(roles, live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    owner = UserFactory(username="olive", password=PASSWORD)
    owner.groups.add(Group.objects.get(name=OWNER))
    data = Data(owner)
    assert Customer.objects.filter(email__contains="__xss").count() == len(PAYLOADS)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            # The harness can see an execution: a deliberate one is counted.
            probe = browser.new_context(bypass_csp=True)
            probe.add_init_script(RECORDER)
            probe_page = probe.new_page()
            probe_page.set_content("<img src=x onerror=__xss('probe')>")
            probe_page.wait_for_function("window.__hits.length > 0")
            assert probe_page.evaluate("window.__hits") == ["probe"]
            probe.close()

            for bypass_csp in (False, True):
                hits, dialogs, violations, shown = visit_everything(
                    browser, live_server.url, data, bypass_csp=bypass_csp
                )
                mode = "escaping alone" if bypass_csp else "with CSP"
                print(
                    f"XSS {mode}: {len(data.pages()) + 1} pages, payloads executed "
                    f"{sum(len(found) for _, found in hits)}, dialogs {len(dialogs)}, "
                    f"CSP violations {len(violations)}"
                )
                assert hits == [], f"{mode}: payloads executed: {hits}"
                assert dialogs == [], f"{mode}: dialogs opened: {dialogs}"
                assert violations == [], f"{mode}: CSP violations: {violations}"
                # The payloads were on the pages, as text.
                assert shown >= len(data.customers) * 5, shown
        finally:
            browser.close()
