"""What the providers report after sending, from their signed webhooks.

Each report is stored once as a ProviderEvent, keyed by (provider, event id):
a replayed or retried webhook changes nothing. A report names its Message by
the idempotency key sent with it (email metadata, the SMS status callback URL)
or by the provider's id stored at send. Then:

- delivered, opened, clicked: the message's ``delivered_at``/``opened_at``/
  ``clicked_at`` and ``provider_status``;
- bounced, complained, unsubscribed (a STOP reply for SMS): the customer is
  opted out of the channel (a ConsentChange saying which provider and event)
  and a note on the timeline says why; a note is not contact with the customer;
- a message to reconcile (its worker died mid-send) is resolved: sent, when the
  provider took it; failed, when it refused it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Replace
from django.utils import timezone

from customers.locking import lock_customers
from customers.models import Customer, Interaction
from customers.services import log_interaction

from .delivery import METADATA_KEY, idempotency_key
from .models import (
    ACCEPTED_EVENTS,
    REFUSED_EVENTS,
    SUPPRESSING_EVENTS,
    Message,
    ProviderEvent,
    Status,
)
from .phones import InvalidPhoneNumber, same_number, to_e164
from .sender import record_sent
from .services import unsubscribe

KEY = re.compile(r"^crm-message-(\d+)-\d+$")
# Engagement, not delivery: it does not change what provider_status says.
ENGAGEMENT = {"opened": "opened_at", "clicked": "clicked_at"}
CHANNEL_NAMES = {"email": "Email", "sms": "SMS"}


@dataclass(frozen=True)
class Report:
    """One provider event, in anymail's normalised terms."""

    provider: str  # its display name: "Mailgun", "Twilio"
    event_id: str
    event_type: str  # anymail.signals.EventType, Twilio's statuses mapped onto it
    channel: str
    occurred_at: datetime
    message_key: str = ""
    provider_message_id: str = ""
    recipient: str = ""
    detail: str = ""


def payload_id(payload) -> str:
    """An id for an event the provider gives none: its content, hashed, so the
    same event posted twice has the same id."""
    if hasattr(payload, "lists"):  # a QueryDict (form-encoded webhooks)
        payload = sorted(payload.lists())
    text = json.dumps(payload, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def find_message(report: Report) -> Message | None:
    match = KEY.match(report.message_key or "")
    if match:
        message = Message.objects.filter(
            pk=int(match[1]), channel=report.channel
        ).first()
        # The key has the creation time: an id reused after a reset is not it.
        if message is not None and idempotency_key(message) == report.message_key:
            return message
    if report.provider_message_id:
        return (
            Message.objects.filter(
                channel=report.channel, provider_id=report.provider_message_id
            )
            .order_by("-pk")
            .first()
        )
    return None


def _digits(field: str):
    expression = F(field)
    for separator in (" ", "-", "(", ")", ".", "/"):
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def customers_with_number(number: str) -> list[int]:
    """Every customer whose phone is this number, however it was written."""
    try:
        e164 = to_e164(number)
    except InvalidPhoneNumber:
        return []
    candidates = (
        Customer.objects.annotate(phone_digits=_digits("phone"))
        .filter(phone_digits__endswith=e164[-7:])
        .values_list("pk", "phone")
    )
    return [pk for pk, phone in candidates if same_number(phone, e164)]


def customers_texted_at(number: str) -> list[int]:
    """The customers whose text messages went to this number."""
    try:
        e164 = to_e164(number)
    except InvalidPhoneNumber:
        return []
    return list(
        Message.objects.filter(channel="sms", to_address=e164)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def _customer_ids(report: Report, message: Message | None) -> list[int]:
    if message is not None:
        return [message.customer_id]
    if report.event_type not in SUPPRESSING_EVENTS or not report.recipient:
        return []
    if report.channel == "sms":
        # Also whoever our texts to this number now belong to: a merge may have
        # kept another phone number on the record they were moved to.
        texted = customers_texted_at(report.recipient)
        return sorted({*customers_with_number(report.recipient), *texted})
    return list(
        Customer.objects.filter(email__iexact=report.recipient).values_list(
            "pk", flat=True
        )
    )


@transaction.atomic
def record_report(*, report: Report) -> bool:
    """Store the provider's event and act on it; False if it was stored already."""
    message = find_message(report)
    # The customers first (the lock order), then their messages and events.
    customers = lock_customers(_customer_ids(report, message))
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(
                provider=report.provider.lower(),
                event_id=report.event_id[:255],
                event_type=report.event_type[:20],
                message=message,
                customer_id=next(iter(customers), None),
                provider_message_id=report.provider_message_id[:255],
                recipient=report.recipient[:254],
                detail=report.detail,
                occurred_at=report.occurred_at,
            )
    except IntegrityError:
        return False  # a replay, or the provider retrying: done already
    if message is not None:
        _update_message(message, report)
    if report.event_type in SUPPRESSING_EVENTS:
        for customer in customers.values():
            _suppress(customer, report)
    return True


def _update_message(message: Message, report: Report) -> None:
    changes = {}
    if report.event_type in ENGAGEMENT:
        field = ENGAGEMENT[report.event_type]
        changes[field] = Coalesce(field, Value(report.occurred_at))
    else:
        changes["provider_status"] = report.event_type
    if report.event_type == "delivered":
        changes["delivered_at"] = Coalesce("delivered_at", Value(report.occurred_at))
    Message.objects.filter(pk=message.pk).update(**changes)
    if message.status != Status.RECONCILE:
        return
    if report.event_type in ACCEPTED_EVENTS:
        provider_id = report.provider_message_id or message.provider_id
        record_sent(
            message,
            provider_id or report.event_id,
            message.claimed_at or timezone.now(),
        )
    elif report.event_type in REFUSED_EVENTS:
        Message.objects.filter(pk=message.pk, status=Status.RECONCILE).update(
            status=Status.FAILED,
            reason=f"{report.provider} refused it: {report.detail}"[:2000],
            finished_at=timezone.now(),
            counted_at=None,
        )


def _suppress(customer: Customer, report: Report) -> None:
    channel = report.channel
    opted_out = unsubscribe(
        customer_id=customer.pk,
        channel=channel,
        how=f"{report.event_type}: {report.provider}",
    )
    name = CHANNEL_NAMES[channel]
    subject = f"{name} {report.event_type} ({report.provider})"
    if opted_out:
        subject += f": opted out of {name}"
    body = "\n".join(
        part for part in (f"To: {report.recipient}", report.detail) if part
    )
    log_interaction(
        customer=customer,
        kind=Interaction.Kind.NOTE,
        direction=Interaction.Direction.INTERNAL,
        subject=subject[:200],
        body=body,
        occurred_at=min(report.occurred_at, timezone.now()),
    )


def soft_bounce(event) -> bool:
    """A bounce that may pass (mailbox full, a server briefly refusing): anymail
    calls it bounced for some providers; it is no reason to opt anyone out."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    bounce = raw.get("bounce") if isinstance(raw.get("bounce"), dict) else {}
    return (
        raw.get("event") == "soft_bounce"  # Brevo
        or raw.get("Type") == "SoftBounce"  # Postmark
        or bounce.get("bounceType", "Permanent") != "Permanent"  # Amazon SES
        or event.reject_reason == "blocked"  # SendGrid's "blocked" bounce
    )


def on_anymail_tracking(sender, event, esp_name: str, **kwargs) -> None:
    """anymail.signals.tracking receiver (connected in CommunicationsConfig)."""
    metadata = event.metadata or {}
    event_type = event.event_type
    if event_type == "bounced" and soft_bounce(event):
        event_type = "deferred"
    # One notification can report on several recipients (Amazon SES).
    event_id = ":".join(
        (str(event.event_id or payload_id(event.esp_event)), event.recipient or "")
    )
    detail = " ".join(
        str(part)
        for part in (event.reject_reason, event.description, event.mta_response)
        if part
    )
    record_report(
        report=Report(
            provider=esp_name,
            event_id=event_id,
            event_type=event_type,
            channel="email",
            occurred_at=event.timestamp or timezone.now(),
            message_key=str(metadata.get(METADATA_KEY, "")),
            provider_message_id=str(event.message_id or ""),
            recipient=event.recipient or "",
            detail=detail,
        )
    )
