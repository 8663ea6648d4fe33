"""The sender: claims, checks, delivers and records one message at a time.

Each step is its own short transaction guarded by a conditional UPDATE on the
message's status, so any number of workers may be handed the same id:

1. claim: ``queued -> sending`` (zero rows: someone else has it, or it is not due);
2. check, with the customer's row locked: consent and address, the rule or
   campaign still on, the occasion still true, priority, caps and quiet hours.
   It is skipped (with the reason), held for its next allowed slot, or it now
   counts against the caps and is rendered;
3. deliver, outside any transaction (the provider is slow);
4. record: ``sending -> sent`` with the provider's id, and an outbound
   (automated) Interaction on the customer's timeline, in one transaction.

A worker that dies between 1 and 4 leaves the message in ``sending``; the
sweeper moves it to ``reconcile`` and asks the provider, never resending blindly.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html

from customers.locking import lock_customer
from customers.models import Customer, Interaction
from customers.services import log_interaction

from .context import customer_context
from .delivery import Delivery, PermanentDeliveryError, TransientDeliveryError
from .models import FrequencyPolicy, Message, Status, Trigger
from .pacing import CAP_WINDOW, next_allowed
from .phones import InvalidPhoneNumber, to_e164
from .rendering import render_message

logger = logging.getLogger(__name__)

# How long a message waits for a higher-priority one due at the same time.
PRIORITY_WAIT = timedelta(minutes=1)


def claim(message_id: int, now: datetime) -> bool:
    return bool(
        Message.objects.filter(
            pk=message_id, status=Status.QUEUED, scheduled_for__lte=now
        ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def _finish(message: Message, status: str, reason: str, now: datetime) -> None:
    Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=status, reason=reason[:2000], finished_at=now, counted_at=None
    )


def _hold(message: Message, until: datetime, reason: str) -> None:
    """Back to the queue until its next allowed slot."""
    Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.QUEUED,
        scheduled_for=until,
        dispatched_at=None,
        counted_at=None,
        reason=reason,
    )


def _address(message: Message, customer: Customer) -> str:
    if message.channel == "email":
        return customer.email
    return to_e164(customer.phone) if customer.phone else ""


def skip_reason(message: Message, customer: Customer) -> str:
    """Why the message must not go out at all (empty: it may)."""
    channel = message.get_channel_display()
    if not getattr(customer, f"{message.channel}_opt_in"):
        return f"The customer has not consented to {channel} (or opted out)."
    try:
        if not _address(message, customer):
            what = "email address" if message.channel == "email" else "phone number"
            return f"The customer has no {what}."
    except InvalidPhoneNumber as error:
        return str(error)
    if message.template is None:
        return "Its template was deleted."
    if message.rule_id is None and message.campaign_id is None:
        return "Its rule or campaign was deleted."
    if message.rule is not None and not message.rule.active:
        return "Its rule was switched off."
    return no_longer_due(message, customer)


def no_longer_due(message: Message, customer: Customer) -> str:
    """The occasion has passed: contacted or bought again since it was planned."""
    occurrence = message.occurrence_at
    if message.trigger == Trigger.CHECK_IN and occurrence is not None:
        latest = customer.last_contact_at or customer.created_at
        if latest > occurrence:
            return "No longer due: the customer was contacted since it was planned."
    bought_since = (
        customer.last_purchase_at is not None
        and occurrence is not None
        and customer.last_purchase_at > occurrence
    )
    if message.trigger == Trigger.WIN_BACK and bought_since:
        return "No longer due: the customer bought again since it was planned."
    return ""


def _waits_for_priority(message: Message, now: datetime) -> bool:
    """Another of the customer's messages, due now, ranks higher."""
    ahead = Q(priority__lt=message.priority) | Q(
        priority=message.priority, pk__lt=message.pk
    )
    waiting = Q(status=Status.QUEUED, scheduled_for__lte=now) | Q(
        status=Status.SENDING, counted_at__isnull=True
    )
    return (
        Message.objects.filter(customer_id=message.customer_id)
        .exclude(pk=message.pk)
        .filter(ahead, waiting)
        .exists()
    )


@transaction.atomic
def check_and_render(
    message_id: int, now: datetime, policy: FrequencyPolicy | None = None
) -> Message | None:
    """Step 2: the message ready to deliver, or None (skipped or held)."""
    message = Message.objects.select_related("template", "rule").get(pk=message_id)
    if message.status != Status.SENDING:
        return None
    # The lock makes the cap count and the use of the last slot one step.
    customer = lock_customer(message.customer_id)
    reason = skip_reason(message, customer)
    if not reason and now > message.stale_after:
        reason = "Stale: it could not go out in time."
    if reason:
        _finish(message, Status.SKIPPED, reason, now)
        return None
    if _waits_for_priority(message, now):
        _hold(message, now + PRIORITY_WAIT, "Waiting for a higher-priority message.")
        return None
    counted = list(
        Message.objects.counted_for(customer.pk, now - CAP_WINDOW)
        .exclude(pk=message.pk)
        .order_by("-counted_at")
        .values_list("counted_at", flat=True)
    )
    allowed = next_allowed(policy or FrequencyPolicy.current(), now, counted)
    if allowed > now:
        when = timezone.localtime(allowed).strftime("%Y-%m-%d %H:%M")
        if allowed > message.stale_after:
            _finish(
                message,
                Status.SKIPPED,
                f"Held back by the frequency policy or quiet hours until {when}, "
                "when it would be stale.",
                now,
            )
        else:
            _hold(
                message,
                allowed,
                f"Held back by the frequency policy (caps or quiet hours) until "
                f"{when}.",
            )
        return None
    expiring_within = None
    if message.rule is not None and message.trigger == Trigger.POINTS_EXPIRING:
        expiring_within = message.rule.days
    context = customer_context(
        customer,
        channel=message.channel,
        message_id=message.pk,
        expiring_within=expiring_within,
    )
    link = context["unsubscribe_url"]
    try:
        rendered = render_message(message.template, context)
    except Exception as error:  # noqa: BLE001 - a broken template is not retried
        _finish(message, Status.FAILED, f"The template failed: {error}", now)
        return None
    body_text, body_html = _with_unsubscribe(rendered, link, message.channel)
    ready = {
        "to_address": _address(message, customer),
        "subject": rendered.subject,
        "body_text": body_text,
        "body_html": body_html,
        "counted_at": now,
    }
    Message.objects.filter(pk=message.pk, status=Status.SENDING).update(**ready)
    for name, value in ready.items():
        setattr(message, name, value)
    message.unsubscribe_link = link
    return message


def _with_unsubscribe(rendered, link: str, channel: str) -> tuple[str, str]:
    """Every message carries its unsubscribe link, whatever the template says."""
    text, html = rendered.body_text, rendered.body_html
    if link not in text:
        text += f"\n\nUnsubscribe: {link}" if channel == "email" else f" Stop: {link}"
    if html and link not in html:
        # The link is SITE_URL and a signed token (no customer text), escaped
        # all the same: a SITE_URL with an "&" stays one attribute.
        html += format_html('<p><a href="{}">Unsubscribe</a></p>', link)
    return text, html


@transaction.atomic
def record_sent(message: Message, provider_id: str, sent_at: datetime) -> bool:
    """Step 4. Also from reconcile and from a queued copy, never twice."""
    updated = Message.objects.filter(
        pk=message.pk,
        status__in=[Status.SENDING, Status.RECONCILE, Status.QUEUED],
    ).update(
        status=Status.SENT,
        sent_at=sent_at,
        finished_at=sent_at,
        counted_at=Coalesce("counted_at", "claimed_at", Value(sent_at)),
        provider_id=provider_id[:255],
        reason="",
    )
    if not updated:
        return False
    label = message.trigger_label
    is_email = message.channel == "email"
    log_interaction(
        customer=Customer(pk=message.customer_id),
        kind=Interaction.Kind.EMAIL if is_email else Interaction.Kind.SMS,
        direction=Interaction.Direction.OUTBOUND,
        subject=(message.subject or f"{label} SMS")[:200],
        body=message.body_text,
        occurred_at=sent_at,
        # Sent by a rule or campaign: the customer's last automated message,
        # not their last contact (which check-in rules and follow-ups count).
        automated=True,
    )
    return True


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter: about 1, 2, 4, … minutes, up to 6 hours."""
    base = min(60 * 2 ** max(attempt - 1, 0), 6 * 3600)
    return timedelta(seconds=base * random.uniform(0.5, 1.0))


def retry_or_fail(message: Message, error: Exception, now: datetime) -> str:
    attempts = Message.objects.filter(pk=message.pk).values_list("attempts", flat=True)
    attempt = attempts.first() or 1
    when = now + retry_delay(attempt)
    if attempt >= settings.COMMUNICATIONS_MAX_ATTEMPTS or when > message.stale_after:
        _finish(
            message, Status.FAILED, f"Gave up after {attempt} attempts: {error}", now
        )
        return "failed"
    _hold(message, when, f"Attempt {attempt} failed: {error}. Retrying.")
    return "retry"


def send_message(
    message_id: int,
    delivery: Delivery,
    now: datetime | None = None,
    policy: FrequencyPolicy | None = None,
) -> str:
    """Send one message if it is queued and due; returns what became of it."""
    now = now or timezone.now()
    if not claim(message_id, now):
        return "not claimed"
    message = check_and_render(message_id, now, policy)
    if message is None:
        return "not sent"
    try:
        provider_id = delivery.send(message, message.unsubscribe_link)
    except TransientDeliveryError as error:
        return retry_or_fail(message, error, now)
    except PermanentDeliveryError as error:
        _finish(message, Status.FAILED, str(error), now)
        return "failed"
    try:
        record_sent(message, provider_id, timezone.now())
    except Exception:
        # It went out: never back to the queue. The sweeper reconciles it.
        logger.exception("Message %s was delivered but not recorded", message_id)
        return "unrecorded"
    return "sent"


def send_chunk(message_ids: Iterable[int]) -> dict[str, int]:
    """Send a chunk of messages; one message's failure does not stop the others."""
    outcomes: dict[str, int] = {}
    delivery = Delivery()
    policy = FrequencyPolicy.current()  # once a chunk: a chunk takes seconds
    try:
        for message_id in message_ids:
            try:
                outcome = send_message(message_id, delivery, policy=policy)
            except Message.DoesNotExist:
                outcome = "gone"
            except Exception as error:
                logger.exception("Sending message %s failed", message_id)
                message = Message.objects.filter(pk=message_id).first()
                if message is None:
                    raise
                outcome = retry_or_fail(message, error, timezone.now())
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        delivery.close()
    return outcomes
