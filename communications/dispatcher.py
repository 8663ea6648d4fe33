"""The dispatcher: hands due messages to workers, a chunk of ids per task.

Beat runs it every minute. It marks what it hands out (``dispatched_at``) in
the same transaction that queues the tasks after commit, so a message is handed
out once; if the task is lost (Redis restarted, worker killed) the sweeper
clears the mark after a while and the next run hands it out again. The sender's
conditional UPDATE makes a message handed out twice harmless.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Message
from .sender import send_chunk


# Defined beside the code that queues it (communications.tasks lists it too);
# the name stays the one queued messages already carry.
@shared_task(name="communications.tasks.send_message_chunk")
def send_message_chunk(message_ids: list[int]) -> dict[str, int]:
    """Send each message of the chunk (each claimed, so a repeat is harmless)."""
    return send_chunk(message_ids)


def chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


@transaction.atomic
def dispatch_due(
    now: datetime | None = None,
    *,
    limit: int | None = None,
    chunk_size: int | None = None,
) -> int:
    """Queue a send task for each chunk of due messages; returns how many."""
    now = now or timezone.now()
    limit = limit or settings.COMMUNICATIONS_DISPATCH_LIMIT
    chunk_size = chunk_size or settings.COMMUNICATIONS_CHUNK_SIZE
    ids = list(
        Message.objects.due(now)
        .order_by("priority", "scheduled_for", "pk")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    Message.objects.filter(pk__in=ids).update(dispatched_at=now)
    for chunk in chunks(ids, chunk_size):
        send_message_chunk.delay_on_commit(chunk)
    return len(ids)
