"""What communications reads from the loyalty app, in one place.

Loyalty's triggers are planned like the others, set-wise from its tables:
points expiring from ``loyalty.queries.customers_with_points_expiring``, member
welcome from ``Membership.enrolled_at``, tier reached from the ``TierChange``
history (one row per move, so a message per (rule, move) under a unique key).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
)
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from loyalty.models import Membership, TierChange
from loyalty.queries import customers_with_points_expiring

from .due_sets import DueSet
from .models import Trigger
from .models.rules import MembershipAudience

# How far ahead a message's "points expiring" looks when its rule does not say.
EXPIRY_HORIZON_DAYS = 30


def loyalty_values(customer, expiring_within: int | None = None) -> dict[str, Any]:
    """The customer's tier, balance and expiring points, as plain values."""
    membership = (
        Membership.objects.filter(customer_id=customer.pk)
        .select_related("tier")
        .only("balance", "tier__name")
        .first()
    )
    values: dict[str, Any] = {
        "tier": "",
        "points_balance": 0,
        "points_expiring": 0,
        "points_expire_on": None,
    }
    if membership is None:
        return values
    values["tier"] = membership.tier.name if membership.tier else ""
    values["points_balance"] = membership.balance
    expiring = (
        customers_with_points_expiring(expiring_within or EXPIRY_HORIZON_DAYS)
        .filter(pk=customer.pk)
        .values_list("points_expiring", "points_expire_on")
        .first()
    )
    if expiring is not None:
        values["points_expiring"], values["points_expire_on"] = expiring
    return values


def loyalty_audience(rule, customer_pk: str) -> Q:
    """The rule's member/tier condition on the customer (Q() when none)."""
    members = Membership.objects.filter(customer_id=OuterRef(customer_pk))
    condition = Q()
    if rule.membership == MembershipAudience.MEMBERS:
        condition &= Q(Exists(members))
    elif rule.membership == MembershipAudience.NON_MEMBERS:
        condition &= ~Q(Exists(members))
    if rule.tier_id and rule.trigger != Trigger.TIER_REACHED:
        condition &= Q(Exists(members.filter(tier_id=rule.tier_id)))
    return condition


def points_expiring(rule, now: datetime, *, audience, key):
    """Members whose points expire within N days; once per expiry day."""
    today = timezone.localdate(now)
    queryset = customers_with_points_expiring(rule.days, today).filter(audience(rule))
    expires = Cast(F("points_expire_on"), output_field=CharField())
    return DueSet(
        queryset,
        {
            "customer_id": F("pk"),
            "key": key(rule, "pk", expires),
            "occurrence_at": Cast(F("points_expire_on"), output_field=DateTimeField()),
            # Stale once the points are gone: the day they expire.
            "stale_after": Cast(F("points_expire_on"), output_field=DateTimeField()),
        },
        {"due_at": now},
    )


def member_welcome(rule, now: datetime, *, audience, key):
    """Joined the loyalty program N days ago (once per member)."""
    after = timedelta(days=rule.days)
    queryset = Membership.objects.filter(
        audience(rule, "customer__"),
        enrolled_at__lte=now - after,
        enrolled_at__gt=now - after - rule.freshness,
    )
    due_at = ExpressionWrapper(F("enrolled_at") + after, output_field=DateTimeField())
    return DueSet(
        queryset,
        {
            "customer_id": F("customer_id"),
            "key": key(rule, "customer_id"),
            "occurrence_at": F("enrolled_at"),
            "due_at": due_at,
            "stale_after": ExpressionWrapper(
                F("enrolled_at") + after + rule.freshness, output_field=DateTimeField()
            ),
        },
    )


def tier_reached(rule, now: datetime, *, audience, key):
    """Moved up into the rule's tier (any higher tier if none) N days ago."""
    after = timedelta(days=rule.days)
    changes = TierChange.objects.filter(
        audience(rule, "membership__customer__"),
        upgrade=True,
        new_tier__isnull=False,
        changed_at__lte=now - after,
        changed_at__gt=now - after - rule.freshness,
    )
    if rule.tier_id:
        changes = changes.filter(new_tier_id=rule.tier_id)
    return DueSet(
        changes,
        {
            "customer_id": F("membership__customer_id"),
            "key": key(
                rule,
                "membership__customer_id",
                Cast(F("pk"), output_field=CharField()),
            ),
            "occurrence_at": F("changed_at"),
            "due_at": ExpressionWrapper(
                F("changed_at") + after, output_field=DateTimeField()
            ),
            "stale_after": ExpressionWrapper(
                F("changed_at") + after + rule.freshness,
                output_field=DateTimeField(),
            ),
        },
    )


BUILDERS = {
    Trigger.POINTS_EXPIRING: points_expiring,
    Trigger.MEMBER_WELCOME: member_welcome,
    Trigger.TIER_REACHED: tier_reached,
}


def loyalty_due_set(rule, now, *, audience, key):
    """Due sets of the triggers that read the loyalty program."""
    builder = BUILDERS.get(rule.trigger)
    return builder(rule, now, audience=audience, key=key) if builder else None


def _per_day(queryset, moment: str, first: date, last: date):
    return (
        queryset.annotate(day=TruncDate(moment))
        .filter(day__gte=first, day__lte=last)
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
        .order_by()
    )


def loyalty_forecast(rule, days: list[date], customers, by_day):
    """Per-day counts for the loyalty triggers (None for others)."""
    n = rule.days
    first, last = days[0] - timedelta(days=n), days[-1] - timedelta(days=n)
    if rule.trigger == Trigger.MEMBER_WELCOME:
        members = Membership.objects.filter(customer__in=customers)
        return by_day(_per_day(members, "enrolled_at", first, last), days, n)
    if rule.trigger == Trigger.TIER_REACHED:
        # Moves happen when purchases come in: only those already made count.
        changes = TierChange.objects.filter(
            membership__customer__in=customers, upgrade=True, new_tier__isnull=False
        )
        if rule.tier_id:
            changes = changes.filter(new_tier_id=rule.tier_id)
        return by_day(_per_day(changes, "changed_at", first, last), days, n)
    if rule.trigger == Trigger.POINTS_EXPIRING:
        # Due N days before the earliest expiry; already within N days: today.
        expiring = customers_with_points_expiring(n + len(days), days[0]).filter(
            pk__in=customers.values("pk")
        )
        rows = [
            (max(expire_on - timedelta(days=n), days[0]), 1)
            for expire_on in expiring.values_list("points_expire_on", flat=True)
        ]
        return by_day(rows, days)
    return None
