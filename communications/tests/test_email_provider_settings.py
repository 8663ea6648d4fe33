"""EMAIL_PROVIDER picks a django-anymail backend and passes the provider's keys;
without it EMAIL_URL chooses. Read in a fresh interpreter each time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASIC_AUTH = "crm-hooks:s3cret-passphrase"


def settings_with(**env: str) -> tuple:
    """EMAIL_BACKEND and ANYMAIL as crm.settings reads them from this env."""
    probe = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.EMAIL_BACKEND, settings.ANYMAIL]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "ENV_FILE": str(ROOT / "no-such.env"),
            "DEBUG": "true",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return tuple(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("provider", "backend"),
    [
        ("mailgun", "anymail.backends.mailgun.EmailBackend"),
        ("SES", "anymail.backends.amazon_ses.EmailBackend"),
        ("postmark", "anymail.backends.postmark.EmailBackend"),
        ("sendgrid", "anymail.backends.sendgrid.EmailBackend"),
        ("brevo", "anymail.backends.brevo.EmailBackend"),
    ],
)
def test_email_provider_picks_the_anymail_backend_with_its_keys(provider, backend):
    chosen, options = settings_with(
        EMAIL_PROVIDER=provider,
        EMAIL_URL="smtp://mail.example.com:25",
        MAILGUN_API_KEY="mg-key",
        POSTMARK_SERVER_TOKEN="pm-token",
        AMAZON_SES_REGION="eu-west-1",
        ANYMAIL_WEBHOOK_SECRET=BASIC_AUTH,
    )
    assert chosen == backend  # over EMAIL_URL
    assert options["MAILGUN_API_KEY"] == "mg-key"
    assert options["POSTMARK_SERVER_TOKEN"] == "pm-token"
    assert options["AMAZON_SES_CLIENT_PARAMS"] == {"region_name": "eu-west-1"}
    assert options["WEBHOOK_SECRET"] == BASIC_AUTH
    assert "SENDGRID_API_KEY" not in options  # unset: not passed on as ""


def test_without_email_provider_email_url_still_chooses():
    chosen, options = settings_with(EMAIL_URL="smtp://mail.example.com:25")
    assert chosen == "django.core.mail.backends.smtp.EmailBackend"
    assert options == {}


def test_an_email_provider_anymail_lacks_is_refused_plainly():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "ENV_FILE": str(ROOT / "no-such.env"),
            "DEBUG": "true",
            "EMAIL_PROVIDER": "smtp",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "EMAIL_PROVIDER='smtp' is not a django-anymail provider" in result.stderr
