"""Purchase occasions: a customer's purchases on one calendar day, as one visit.

An occasion is worth the day's purchases net of refunds. Only what was known at
the cutoff counts: purchases before it, and refunds made before it (a refund's
time is the purchase's ``refunded_at``, the time of its latest refund). A
purchase refunded in full still makes an occasion, worth 0: the customer came
and bought. The first occasion is the customer's acquisition; later ones are
repeats.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from customers.models import Purchase

from .periods import end_of_day
from .sql import Relation

MONEY = DecimalField(max_digits=14, decimal_places=2)


def counted_purchases(cutoff: datetime) -> QuerySet:
    """Purchases before ``cutoff`` with ``net`` (refunds until then off) and ``day``.

    ``day`` is the purchase's calendar day in the business time zone.
    """
    refunded = Case(
        When(
            Q(refunded_at__lt=cutoff) | Q(refunded_at__isnull=True),
            then=F("refunded_amount"),
        ),
        default=Value(Decimal("0")),
        output_field=MONEY,
    )
    return (
        Purchase.objects.filter(occurred_at__lt=cutoff)
        .order_by()
        .annotate(
            net=ExpressionWrapper(F("amount") - refunded, output_field=MONEY),
            day=local_day("occurred_at"),
        )
    )


def local_day(expression) -> TruncDate:
    """The calendar day of a moment in the business time zone."""
    return TruncDate(expression, tzinfo=timezone.get_default_timezone())


def occasions(cutoff: datetime) -> QuerySet:
    """One row per (customer, day) before ``cutoff``: ``value`` and ``purchases``."""
    return (
        counted_purchases(cutoff)
        .values("customer_id", "day")
        .annotate(value=Sum("net"), purchases=Count("pk"))
        .order_by()
    )


def history(cutoff: datetime) -> Relation:
    """One row per customer with an occasion before ``cutoff``.

    Columns: ``occasions``, ``first_day``, ``last_day``, ``total_value`` (net
    spend), ``first_value`` (the acquisition occasion's worth). One pass: each
    purchase carries its customer's first day (a window), then one GROUP BY.
    """
    rows = counted_purchases(cutoff).annotate(
        first_at=Window(Min("occurred_at"), partition_by=[F("customer_id")])
    )
    rows = rows.annotate(first_day=local_day("first_at")).values(
        "customer_id", "day", "net", "first_day"
    )
    return Relation.of(rows).select(
        "r.customer_id, COUNT(DISTINCT r.day) AS occasions, MIN(r.day) AS first_day, "
        "MAX(r.day) AS last_day, SUM(r.net) AS total_value, "
        "SUM(CASE WHEN r.day = r.first_day THEN r.net ELSE 0 END) AS first_value",
        alias="r",
        tail="GROUP BY r.customer_id",
    )


def cutoff_for(as_of: date) -> datetime:
    """Data up to the end of the as-of day is used: purchases before this moment."""
    return end_of_day(as_of)
