"""Celery tasks: thin wrappers; the schedule itself lives in the Message table.

Nothing here uses a countdown or an ETA: a long ETA on Redis is delivered again
after the visibility timeout. Delays are ``Message.scheduled_for``.
"""

from celery import shared_task

from .dispatcher import dispatch_due, send_message_chunk
from .planner import plan_outreach
from .sweeper import sweep

__all__ = ["send_message_chunk"]  # defined beside its queue, in dispatcher


@shared_task
def plan_outreach_task() -> int:
    """Beat, every 5 minutes: write the messages rules and campaigns make due."""
    return plan_outreach().total


@shared_task
def dispatch_due_messages() -> int:
    """Beat, every minute: hand due messages to workers in chunks."""
    return dispatch_due()


@shared_task
def sweep_outbox() -> str:
    """Beat, every 5 minutes: recover messages left by lost tasks or dead workers."""
    return str(sweep())
