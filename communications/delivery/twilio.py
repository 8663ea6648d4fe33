"""SMS through Twilio's own Python SDK (the ``twilio`` package).

SMS_BACKEND=communications.delivery.twilio.TwilioSmsBackend, with
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (or
TWILIO_MESSAGING_SERVICE_SID). Each SMS asks Twilio to report its status to
/webhooks/twilio/status/ with the message's idempotency key in the URL, so a
report names its message even if the worker died before recording Twilio's id.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client

from ..phones import InvalidPhoneNumber, to_e164
from .errors import PermanentDeliveryError, TransientDeliveryError
from .sms import BaseSmsBackend

# Worth retrying: Twilio busy or down, or the account's keys being fixed.
TRANSIENT_STATUSES = {401, 403, 429}


def status_callback_url(idempotency_key: str) -> str:
    path = reverse("webhooks:twilio-status")
    query = urlencode({"message": idempotency_key})
    return f"{settings.SITE_URL.rstrip('/')}{path}?{query}"


class TwilioSmsBackend(BaseSmsBackend):
    def __init__(self, http_client: HttpClient | None = None) -> None:
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise ImproperlyConfigured(
                "TwilioSmsBackend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
            )
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            raise ImproperlyConfigured(
                "TwilioSmsBackend needs TWILIO_FROM_NUMBER or "
                "TWILIO_MESSAGING_SERVICE_SID."
            )
        # http_client: the SDK's own seam for its HTTP layer (tests fake it).
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=http_client,
        )

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        try:
            number = to_e164(to)
        except InvalidPhoneNumber as error:
            raise PermanentDeliveryError(str(error)) from error
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        try:
            sms = self.client.messages.create(
                to=number,
                body=body,
                status_callback=status_callback_url(idempotency_key),
                **sender,
            )
        except TwilioRestException as error:
            raise _classify(error) from error
        except TwilioException as error:
            raise TransientDeliveryError(f"Twilio: {error}") from error
        return sms.sid


def _classify(error: TwilioRestException) -> Exception:
    """Twilio's 4xx is about this SMS (a bad or opted-out number: error 21211,
    21610, ...), but for its busy or credentials answers; 5xx is Twilio's."""
    text = f"Twilio refused it ({error.status}, error {error.code}): {error.msg}"
    if error.status in TRANSIENT_STATUSES or error.status >= 500:
        return TransientDeliveryError(text)
    return PermanentDeliveryError(text)
