"""A message preview in a real browser (issue 13, item 8): the HTML part is drawn
inside a sandboxed frame where nothing runs, none of it reaches the page's own
DOM, and the text part keeps its line breaks. Run with the site's CSP and with
the browser told to ignore it, so the sandbox and escaping are shown to hold
on their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import sync_playwright

from communications.tests.helpers import make_template
from customers.roles import OWNER
from customers.tests.factories import UserFactory

from .test_e2e_browser import CHROMIUM, CHROMIUM_ARGS

PASSWORD = "spring-order-2024!"
RECORDER = """
window.__hits = [];
window.__xss = (label) => { try { window.top.__hits.push(String(label)); }
  catch (error) { window.__hits.push(String(label)); } };
"""
HTML_BODY = (
    "<p>Hello {{ first_name }}</p><b id=x>bold</b>"
    "<script>__xss('script'); alert('script')</script>"
    "<img src=x onerror=\"__xss('onerror')\">"
    "<a id=go href=\"javascript:__xss('href')\">go</a>"
)
TEXT_BODY = "Hello {{ first_name }},\n\nsecond paragraph\nthird line"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bypass_csp", [False, True])
def test_the_preview_draws_html_in_a_sandbox_and_keeps_text_lines(
    roles, live_server, monkeypatch, bypass_csp
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    owner = UserFactory(username="olive", password=PASSWORD)
    owner.groups.add(Group.objects.get(name=OWNER))
    template = make_template(body_html=HTML_BODY, body_text=TEXT_BODY)
    url = f"{live_server.url}/communications/templates/{template.pk}/preview/"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(bypass_csp=bypass_csp)
            context.add_init_script(RECORDER)
            page = context.new_page()
            page.set_default_timeout(15_000)
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("input[name=username]", "olive")
            page.fill("input[name=password]", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{live_server.url}/customers/")

            page.goto(url)
            page.wait_for_load_state("load")
            # Not in the page's own DOM.
            assert page.locator("#x").count() == 0
            assert page.locator("#go").count() == 0
            # Drawn, as markup, inside the frame.
            frame = page.frame_locator("iframe[data-preview=html]")
            assert frame.locator("b#x").inner_text() == "bold"
            frame.locator("#go").click(force=True)
            page.wait_for_timeout(300)
            hits = page.evaluate("window.__hits")
            assert hits == [] and dialogs == [], (hits, dialogs)
            sandbox = page.get_attribute("iframe[data-preview=html]", "sandbox")
            assert sandbox == ""
            # The text part as shown (innerText follows CSS white-space).
            shown = page.inner_text("[data-preview=text]")
            assert shown == "Hello Ana,\n\nsecond paragraph\nthird line"
            context.close()
        finally:
            browser.close()
