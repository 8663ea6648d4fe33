"""Outreach figures for the dashboard, from one function (set-wise queries only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from customers.models import Purchase

from .models import FrequencyPolicy, Message, Status

PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _bought_within(after: str, days: int) -> Exists:
    """A purchase by the message's customer within `days` after the moment."""
    return Exists(
        Purchase.objects.filter(
            customer_id=OuterRef("customer_id"),
            occurred_at__gt=OuterRef(after),
            occurred_at__lte=OuterRef(after) + timedelta(days=days),
        )
    )


def _share(purchased: int, customers: int) -> float | None:
    return round(purchased / customers, 4) if customers else None


def _group(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "customers": row["customers"],
        "purchased": row["purchased"],
        "share": _share(row["purchased"], row["customers"]),
    }


def outreach_figures(
    start: datetime,
    end: datetime,
    attribution_days: int | None = None,
    period: str = "week",
) -> dict[str, Any]:
    """Messages sent in [start, end), and whether messaged customers bought.

    ``attribution_days`` defaults to the Owner's setting (FrequencyPolicy, 7).
    Returns::

        {
          "start": datetime, "end": datetime,
          "attribution_days": int, "period": "day" | "week" | "month",
          "sent": int, "skipped": int, "failed": int,   # sent: by sent_at;
                                                        # others: by due_at
          "sent_by_period": [{"period": date, "sent": int}, ...],  # oldest first,
                                     # first day of each period (business time zone)
          "sent_by_rule": [                              # most sent first
            {"rule_id": int | None, "campaign_id": int | None, "name": str,
             "trigger": str, "sent": int, "customers": int, "purchased": int,
             "share": float | None},                     # share = purchased/customers
            ...],
          "attribution": {
            "messaged": {"customers": int, "purchased": int, "share": float | None},
            "held_back": {"customers": int, "purchased": int, "share": float | None},
            "difference": float | None,  # messaged share minus held-back share
          },
        }

    *messaged*: customers sent a message in the period; *purchased*: of them,
    those who bought within ``attribution_days`` after a message. *held_back*:
    the comparison group, customers who were due in the period (a message was
    planned) but held back (skipped: caps, staleness, opt-out; or failed) and
    not messaged in the period, counted from when it was due.
    """
    days = attribution_days or FrequencyPolicy.current().attribution_days
    truncate = PERIODS[period]
    sent = Message.objects.filter(
        status=Status.SENT, sent_at__gte=start, sent_at__lt=end
    )
    due = Message.objects.filter(due_at__gte=start, due_at__lt=end)
    totals = due.aggregate(
        skipped=Count("pk", filter=Q(status=Status.SKIPPED)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
    )
    counted = {
        "customers": Count("customer", distinct=True),
        "purchased": Count("customer", distinct=True, filter=Q(bought=True)),
    }
    messaged = sent.annotate(bought=_bought_within("sent_at", days))
    held_back = (
        due.filter(status__in=[Status.SKIPPED, Status.FAILED])
        .exclude(customer__in=sent.values("customer"))
        .annotate(bought=_bought_within("due_at", days))
    )
    messaged_row = messaged.aggregate(**counted)
    held_row = held_back.aggregate(**counted)
    difference = None
    messaged_share = _share(messaged_row["purchased"], messaged_row["customers"])
    held_share = _share(held_row["purchased"], held_row["customers"])
    if messaged_share is not None and held_share is not None:
        difference = round(messaged_share - held_share, 4)
    by_period = (
        sent.annotate(
            period=truncate("sent_at", tzinfo=timezone.get_current_timezone())
        )
        .values("period")
        .annotate(sent=Count("pk"))
        .order_by("period")
    )
    by_rule = (
        messaged.values(
            "rule_id", "rule__name", "campaign_id", "campaign__name", "trigger"
        )
        .annotate(sent=Count("pk"), **counted)
        .order_by("-sent", "rule_id", "campaign_id")
    )
    return {
        "start": start,
        "end": end,
        "attribution_days": days,
        "period": period,
        "sent": sum(row["sent"] for row in by_period),
        "skipped": totals["skipped"],
        "failed": totals["failed"],
        "sent_by_period": [
            {
                "period": timezone.localdate(row["period"])
                if isinstance(row["period"], datetime)
                else row["period"],
                "sent": row["sent"],
            }
            for row in by_period
        ],
        "sent_by_rule": [
            {
                "rule_id": row["rule_id"],
                "campaign_id": row["campaign_id"],
                "name": row["rule__name"] or row["campaign__name"] or row["trigger"],
                "trigger": row["trigger"],
                "sent": row["sent"],
                **_group(row),
            }
            for row in by_rule
        ],
        "attribution": {
            "messaged": _group(messaged_row),
            "held_back": _group(held_row),
            "difference": difference,
        },
    }
