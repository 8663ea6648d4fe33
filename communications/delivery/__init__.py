"""Handing a rendered message to the email or SMS provider, and asking it later.

Email goes through Django's email backend (SMTP from EMAIL_URL/EMAIL_*, or a
provider's backend such as django-anymail's), with a Message-ID and an
idempotency header derived from the message, List-Unsubscribe and one-click
List-Unsubscribe-Post (RFC 8058) headers. ``lookup`` answers "did this message
go out?" after a worker died mid-send, for the backends that keep a record
(a provider's tracking webhook that reported on it, the file and local-memory
backends; otherwise UNKNOWN, for a person to decide).
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
from email.utils import parseaddr
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from ..models import ProviderEvent
from .errors import UNKNOWN, PermanentDeliveryError, TransientDeliveryError
from .sms import get_sms_backend

# The metadata key of a message's idempotency key, sent with every email.
METADATA_KEY = "crm_message"
# Backends that keep what they sent in django.core.mail.outbox.
OUTBOX_BACKENDS = (
    "django.core.mail.backends.locmem.EmailBackend",
    "anymail.backends.test.EmailBackend",
)

__all__ = [
    "METADATA_KEY",
    "UNKNOWN",
    "Delivery",
    "PermanentDeliveryError",
    "TransientDeliveryError",
    "idempotency_key",
    "lookup",
    "message_id_header",
]


def idempotency_key(message) -> str:
    """Unique per message, stable across retries (the id alone repeats after a
    database reset, so the creation time is part of it)."""
    return f"crm-message-{message.pk}-{int(message.created_at.timestamp())}"


def message_id_header(message) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return f"<{idempotency_key(message)}@{domain or 'localhost'}>"


def email_for(message, unsubscribe_url: str, connection=None) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": message_id_header(message),
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        settings.COMMUNICATIONS_IDEMPOTENCY_HEADER: idempotency_key(message),
    }
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_address],
        headers=headers,
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    # django-anymail hands metadata to the provider, whose tracking webhooks
    # echo it: an event names its message even when the provider's id was
    # never recorded (the worker died after the provider took it).
    email.metadata = {METADATA_KEY: idempotency_key(message)}
    return email


def _esp_message_id(email) -> str:
    """The provider's id for the email (django-anymail), or empty."""
    esp_id = getattr(getattr(email, "anymail_status", None), "message_id", None)
    # Anymail's test backend numbers messages from 0, a real id.
    return "" if esp_id is None else str(esp_id)


def _classify_smtp(error: Exception) -> Exception:
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        code = min(codes) if codes else None
    if code is not None and 500 <= code < 600:
        return PermanentDeliveryError(f"Refused by the mail server: {error}")
    return TransientDeliveryError(f"Mail server error: {error}")


def _classify(error: Exception) -> Exception:
    if isinstance(error, TransientDeliveryError | PermanentDeliveryError):
        return error
    if isinstance(error, smtplib.SMTPException):
        return _classify_smtp(error)
    if isinstance(error, socket.timeout | TimeoutError | ConnectionError | OSError):
        return TransientDeliveryError(f"Network error: {error}")
    status = getattr(error, "status_code", None)  # anymail's API errors
    if status is not None and (status == 429 or status >= 500):
        return TransientDeliveryError(f"Provider error {status}: {error}")
    return PermanentDeliveryError(f"{type(error).__name__}: {error}")


class Delivery:
    """One email connection and one SMS backend for a chunk of messages."""

    def __init__(self) -> None:
        self._email = None
        self._sms = None

    def send(self, message, unsubscribe_url: str) -> str:
        """Deliver; returns the provider's id or raises a *DeliveryError."""
        try:
            if message.channel == "sms":
                if self._sms is None:
                    self._sms = get_sms_backend()
                return self._sms.send(
                    to=message.to_address,
                    body=message.body_text,
                    idempotency_key=idempotency_key(message),
                )
            if self._email is None:
                # Opened once for the chunk: one SMTP session, not one a message.
                self._email = mail.get_connection()
                self._email.open()
            email = email_for(message, unsubscribe_url, self._email)
            email.send()
            return _esp_message_id(email) or message_id_header(message)
        except Exception as error:  # noqa: BLE001 - every failure is classified
            if self._email is not None:
                self._close_email()
            raise _classify(error) from error

    def _close_email(self) -> None:
        # A broken connection is dropped, whatever closing it says.
        with contextlib.suppress(Exception):
            self._email.close()
        self._email = None

    def close(self) -> None:
        if self._email is not None:
            self._close_email()


def _lookup_email(message):
    backend = settings.EMAIL_BACKEND
    header = message_id_header(message)
    if backend in OUTBOX_BACKENDS:
        for email in getattr(mail, "outbox", []):
            if email.extra_headers.get("Message-ID") == header:
                return _esp_message_id(email) or header
        return None
    if backend == "django.core.mail.backends.filebased.EmailBackend":
        needle = f"Message-ID: {header}".encode()
        folder = Path(settings.EMAIL_FILE_PATH)
        if not folder.exists():
            return None
        for path in folder.iterdir():
            if path.is_file() and needle in path.read_bytes():
                return header
        return None
    return UNKNOWN


def _reported(message) -> str | None:
    """The provider's id, if one of its webhooks reported on the message."""
    event = ProviderEvent.objects.filter(message=message).accepted().first()
    if event is None:
        return None
    return event.provider_message_id or message.provider_id or event.event_id


def lookup(message):
    """The provider's id if the message went out, None if not, else UNKNOWN.

    A provider's event about the message (a webhook) answers first; then the
    backends that keep a record; a provider that cannot be asked: UNKNOWN.
    """
    reported = _reported(message)
    if reported:
        return reported
    if message.channel == "sms":
        return get_sms_backend().lookup(idempotency_key(message))
    return _lookup_email(message)
