"""Signed unsubscribe links: which customer, which channel, from which message.

The token is signed with SECRET_KEY (django.core.signing), so a link cannot be
forged or altered; it does not expire, since people unsubscribe from old mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.urls import reverse

from .rendering import site_url

SALT = "communications.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeRequest:
    customer_id: int
    channel: str
    message_id: int | None


class BadUnsubscribeToken(Exception):
    """The link was forged, altered or cut short."""


def make_token(*, customer_id: int, channel: str, message_id: int | None) -> str:
    payload = {"c": customer_id, "ch": channel}
    if message_id is not None:
        payload["m"] = message_id
    return signing.dumps(payload, salt=SALT, compress=True)


def read_token(token: str) -> UnsubscribeRequest:
    try:
        payload = signing.loads(token, salt=SALT)
        request = UnsubscribeRequest(
            customer_id=int(payload["c"]),
            channel=str(payload["ch"]),
            message_id=int(payload["m"]) if payload.get("m") is not None else None,
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadUnsubscribeToken(str(error)) from None
    if request.channel not in ("email", "sms"):
        raise BadUnsubscribeToken("unknown channel")
    return request


def unsubscribe_url(
    *, customer_id: int, channel: str, message_id: int | None = None
) -> str:
    """The absolute URL of the public unsubscribe page for this customer."""
    token = make_token(customer_id=customer_id, channel=channel, message_id=message_id)
    return site_url() + reverse("unsubscribe", args=[token])
