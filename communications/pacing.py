"""The frequency policy applied: quiet hours and the next slot a customer allows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from .models import FrequencyPolicy

CAP_WINDOW = timedelta(days=30)


def is_quiet(policy: FrequencyPolicy, moment: datetime) -> bool:
    """Whether the moment falls in quiet hours, in the business time zone."""
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    local = timezone.localtime(moment).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the quiet hours span midnight


def next_open(policy: FrequencyPolicy, moment: datetime) -> datetime:
    """The moment itself, or the end of the quiet hours it falls in."""
    if not is_quiet(policy, moment):
        return moment
    local = timezone.localtime(moment)
    end = local.replace(
        hour=policy.quiet_end.hour,
        minute=policy.quiet_end.minute,
        second=0,
        microsecond=0,
    )
    if end <= local:
        end += timedelta(days=1)
    # Rebuild from the wall-clock time, so a DST change overnight is respected.
    return timezone.make_aware(end.replace(tzinfo=None))


def next_allowed(
    policy: FrequencyPolicy, now: datetime, counted: Sequence[datetime]
) -> datetime:
    """The earliest moment from now a new message fits the caps and quiet hours.

    ``counted``: when each of the customer's messages in the last 30 days
    started to count (sent, or being sent), newest first.
    """
    moment = now
    if counted and policy.min_days_between:
        moment = max(moment, counted[0] + timedelta(days=policy.min_days_between))
    cap = policy.max_per_30_days
    if len(counted) >= cap:
        # The cap-th newest must leave the 30-day window first.
        moment = max(moment, counted[cap - 1] + CAP_WINDOW)
    return next_open(policy, moment)
