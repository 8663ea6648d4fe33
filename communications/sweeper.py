"""The sweeper: finds messages a lost task or a dead worker left behind.

- queued, handed out long ago but never claimed (the task was lost): cleared
  for the dispatcher to hand out again;
- sending for too long (the worker died mid-send): moved to ``reconcile`` and
  the provider is asked whether it went out. Sent: recorded as sent. Not sent:
  queued again. Cannot tell: left for an Owner to decide in the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .delivery import UNKNOWN, lookup
from .models import Message, Status
from .sender import record_sent

logger = logging.getLogger(__name__)

RECONCILE_BATCH = 500


@dataclass
class SweepResult:
    requeued: int = 0
    to_reconcile: int = 0
    found_sent: int = 0
    found_unsent: int = 0
    unknown: int = 0


def requeue(message: Message, reason: str) -> bool:
    """Back to the queue, due now, from sending or reconcile."""
    return bool(
        Message.objects.filter(
            pk=message.pk, status__in=[Status.SENDING, Status.RECONCILE]
        ).update(
            status=Status.QUEUED,
            scheduled_for=timezone.now(),
            dispatched_at=None,
            counted_at=None,
            reason=reason,
        )
    )


def reconcile(message: Message) -> str:
    """Ask the provider about a message whose worker died; act on the answer."""
    found = lookup(message)
    if found is UNKNOWN:
        Message.objects.filter(pk=message.pk, status=Status.RECONCILE).update(
            reason="The worker stopped while sending and the provider cannot say "
            "whether it went out: check, then mark it sent or send it again."
        )
        return "unknown"
    if found:
        record_sent(message, str(found), message.claimed_at or timezone.now())
        return "sent"
    requeue(message, "The worker stopped before it went out; queued again.")
    return "unsent"


def sweep(
    now: datetime | None = None,
    *,
    requeue_after: timedelta | None = None,
    sending_after: timedelta | None = None,
) -> SweepResult:
    now = now or timezone.now()
    requeue_after = (
        requeue_after
        if requeue_after is not None
        else timedelta(seconds=settings.COMMUNICATIONS_REQUEUE_AFTER)
    )
    sending_after = (
        sending_after
        if sending_after is not None
        else timedelta(seconds=settings.COMMUNICATIONS_SENDING_TIMEOUT)
    )
    result = SweepResult()
    with transaction.atomic():
        result.requeued = Message.objects.filter(
            status=Status.QUEUED, dispatched_at__lte=now - requeue_after
        ).update(dispatched_at=None)
        result.to_reconcile = Message.objects.filter(
            status=Status.SENDING, claimed_at__lte=now - sending_after
        ).update(status=Status.RECONCILE)
    waiting = Message.objects.filter(status=Status.RECONCILE).order_by("pk")
    for message in waiting[:RECONCILE_BATCH]:
        outcome = reconcile(message)
        if outcome == "sent":
            result.found_sent += 1
        elif outcome == "unsent":
            result.found_unsent += 1
        else:
            result.unknown += 1
    if result.requeued or result.to_reconcile:
        logger.warning("Outbox sweep: %s", result)
    return result
