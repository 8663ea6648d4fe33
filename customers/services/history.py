"""The timeline's own rows: interactions, follow-ups done, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..locking import lock_customer
from ..models import (
    FUTURE_TOLERANCE,
    Customer,
    Feedback,
    FollowUp,
    Interaction,
)
from .profile import FollowUpAlreadyDone, _lock_unerased


@transaction.atomic
def log_interaction(
    *,
    customer: Customer,
    kind: str,
    direction: str = Interaction.Direction.OUTBOUND,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    by=None,
    follow_up_on: date | None = None,
    follow_up_assignee=None,
    follow_up_note: str = "",
    automated: bool = False,
) -> Interaction:
    """Add an interaction to the timeline, optionally asking for a follow-up.

    ``automated`` marks a message a rule or campaign sent: it moves the
    customer's last automated message, never their last (personal) contact.
    """
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError(
            {"occurred_at": "An interaction cannot be in the future."}
        )
    locked = _lock_unerased(customer)
    interaction = Interaction(
        customer=locked,
        kind=kind,
        direction=direction,
        subject=subject,
        body=body,
        occurred_at=occurred_at,
        by=by,
        automated=automated,
    )
    interaction.full_clean(exclude=["customer", "by"])
    interaction.save()
    figure = interaction.customer_figure
    latest = getattr(locked, figure) if figure else None
    if figure and (latest is None or occurred_at > latest):
        setattr(locked, figure, occurred_at)
        locked.save(update_fields=[figure, "updated_at"])
        setattr(customer, figure, occurred_at)
    if follow_up_on is not None:
        if (follow_up_assignee or by) is None:
            raise ValidationError(
                {"follow_up_assignee": "Choose who is to do the follow-up."}
            )
        FollowUp.objects.create(
            customer=locked,
            origin=interaction,
            due_on=follow_up_on,
            assignee=follow_up_assignee or by,
            note=follow_up_note,
        )
    return interaction


@transaction.atomic
def complete_follow_up(*, follow_up: FollowUp, by, **interaction: Any) -> Interaction:
    """Log the interaction that did the follow-up and mark it done."""
    lock_customer(follow_up.customer_id)  # the customer before its follow-up
    locked = FollowUp.objects.select_for_update(no_key=True).get(pk=follow_up.pk)
    if locked.completed_at is not None:
        raise FollowUpAlreadyDone(f"{locked} was completed already.")
    done = log_interaction(customer=locked.customer, by=by, **interaction)
    locked.completed_at = timezone.now()
    locked.completed_by = done
    locked.save(update_fields=["completed_at", "completed_by"])
    return done


@transaction.atomic
def record_feedback(
    *,
    customer: Customer,
    kind: str,
    score: int,
    comment: str = "",
    occurred_at: datetime | None = None,
    by=None,
) -> Feedback:
    """Store a satisfaction (CSAT 1–5) or recommendation (NPS 0–10) score."""
    feedback = Feedback(
        customer=_lock_unerased(customer),
        kind=kind,
        score=score,
        comment=comment,
        occurred_at=occurred_at or timezone.now(),
        by=by,
    )
    feedback.full_clean(exclude=["customer", "by"])
    if feedback.occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": "Feedback cannot be in the future."})
    feedback.save()
    return feedback
