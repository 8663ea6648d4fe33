"""Production settings and the headers on every response: the deploy check,
HSTS and cookies, nosniff, framing, referrer, opener policy, and a
Content-Security-Policy that no template needs to loosen."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from crm.api.services import create_api_token
from customers.tests import test_views_access as access

pytestmark = pytest.mark.django_db
world = access.world  # the customers pages' fixture: one of everything
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "crm.settings",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "crm.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://crm.example.com",
    "HTTPS": "true",
    "TRUST_PROXY_HEADERS": "true",
    "PROXY_COUNT": "1",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "HTTPS", "SECRET_KEY"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "ENV_FILE": "/nonexistent", "REDIS_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_passes_with_production_variables():
    done = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_deploy_check_fails_without_https_settings():
    # Shows the check above can fail: plain HTTP is not a production setup.
    without_https = {**PRODUCTION, "HTTPS": "false"}
    done = run_manage("check", "--deploy", "--fail-level", "WARNING", **without_https)
    assert done.returncode != 0
    assert "security.W004" in done.stderr + done.stdout  # no HSTS


SHOW_SETTINGS = """
import json
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in [
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE",
    "SECURE_PROXY_SSL_HEADER"]}))
"""


def production_settings(**env: str) -> dict:
    done = run_manage("shell", "-c", SHOW_SETTINGS, **{**PRODUCTION, **env})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_settings_are_strict_and_proxy_trust_is_a_switch():
    behind_proxy = production_settings()
    assert behind_proxy["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert behind_proxy["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert behind_proxy["SECURE_SSL_REDIRECT"] is True
    for cookie in ("SESSION", "CSRF"):
        assert behind_proxy[f"{cookie}_COOKIE_SECURE"] is True
        assert behind_proxy[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert behind_proxy[f"{cookie}_COOKIE_SAMESITE"] == "Lax"
    assert behind_proxy["SECURE_PROXY_SSL_HEADER"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]
    direct = production_settings(TRUST_PROXY_HEADERS="false")
    assert direct["SECURE_PROXY_SSL_HEADER"] is None


def assert_hardened(response) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(
        (part.strip().split(" ", 1) + [""])[:2]
        for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]


def test_every_kind_of_response_carries_the_security_headers(
    client, staff_client, owner_user
):
    _, secret = create_api_token(user=owner_user, name="Headers")
    responses = {
        "login page": client.get(reverse("login")),
        "redirect to login": client.get(reverse("customers:list")),
        "not found": client.get("/no-such-page/"),
        "static file": client.get("/static/css/app.css"),
        "staff page": staff_client.get(reverse("customers:list")),
        "API JSON": client.get(
            "/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {secret}"
        ),
        "API refusal": client.get("/api/v1/customers/"),
        "admin": client.get("/admin/login/"),
    }
    for what, response in responses.items():
        assert response.status_code in (200, 302, 401, 404), what
        assert_hardened(response)


def test_hsts_is_sent_over_https_when_configured(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


# What a Content-Security-Policy without 'unsafe-inline' would block.
COMMENTS = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
INLINE = {
    "inline <script>": re.compile(
        r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
    ),
    "<style> element": re.compile(r"<style\b", re.I),
    "on* handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I | re.S),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def template_files() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_the_template_scan_sees_templates():
    assert len(template_files()) > 20
    assert INLINE["inline <script>"].search("<script>alert(1)</script>")
    assert INLINE["on* handler"].search('<img src=x onerror="alert(1)">')
    assert not INLINE["inline <script>"].search('<script src="/static/js/app.js">')


@pytest.mark.parametrize(
    "path", template_files(), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_has_inline_script_or_style(path):
    text = COMMENTS.sub("", path.read_text())
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{path.relative_to(ROOT)}: {found}"


class InlineFinder(HTMLParser):
    """Collects what the policy would block in a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        inline = "src" not in names and names.get("type") != "application/json"
        if tag == "script" and inline:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name == "style":
                self.found.append(f"{tag} style=")
            if name in ("href", "src", "action") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


OWN_PAGES = [
    "login",
    "password_change",
    "security:settings",
    "security:lockouts",
    "security:two-factor",
    "audit:list",
    "api_tokens:list",
    "team:list",
    "team:invite",
]


HTML_PAGES = [
    name
    for name, case in access.PAGES.items()
    if case[2] == 200 and not name.endswith(("export", "data-export", "progress"))
]


@pytest.mark.parametrize("name", HTML_PAGES)
def test_rendered_customer_pages_need_no_inline_script_or_style(
    owner_client, world, name
):
    response = owner_client.get(access.url_of(name, world))
    assert response["Content-Type"].startswith("text/html")
    assert inline_parts(response.content.decode()) == []
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("name", OWN_PAGES)
def test_rendered_settings_pages_need_no_inline_script_or_style(owner_client, name):
    response = owner_client.get(reverse(name))
    assert response.status_code == 200
    assert inline_parts(response.content.decode()) == []
