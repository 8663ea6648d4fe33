"""Loyalty, matched: members against comparable customers who never joined.

Members join because they are good customers, so the side by side flatters the
program. The matched comparison takes the members who enrolled in the year
before the last ``FOLLOW_UP_DAYS`` (so each has a full follow-up) and, for
each, what they bought before enrolling (occasions and net spend, by the end of
the enrolment day); customers who never enrolled are measured the same way at
one reference date, the middle of that year. Both are put in bands of frequency
and of spend (as multiples of the average order value); within each band,
members' spend and repeat buying in the follow-up days are compared with the
non-members' in the same band, and the bands are weighted by how many members
are in each (the effect on the members).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from customers.models import Customer

from .facts import Plan
from .occasions import MONEY
from .periods import end_of_day, start_of_day
from .sql import Relation, as_decimal

FOLLOW_UP_DAYS = 180
# Bands of purchase frequency before enrolment (occasions) ...
OCCASION_BANDS = [(0, 0), (1, 1), (2, 3), (4, 9), (10, None)]
# ... and of spend before enrolment, in multiples of the average order value.
SPEND_BANDS = [0, 1, 3, 10]


def per_customer(total: Decimal, count: int) -> Decimal | None:
    return (total / count).quantize(Decimal("0.01")) if count else None


def _band_case(column: str, bands: list, params: list, scale=None) -> str:
    """SQL: the band index of a value; spend bands are multiples of ``scale``."""
    whens = []
    if scale is None:
        for i, (low, high) in enumerate(bands):
            if high is None:
                whens.append(f"WHEN {column} >= {int(low)} THEN {i}")
            else:
                whens.append(f"WHEN {column} <= {int(high)} THEN {i}")
        return "CASE " + " ".join(whens) + " END"
    for i, multiple in enumerate(bands):
        whens.append(f"WHEN {column} <= %s THEN {i}")
        params.append(scale * multiple)
    return "CASE " + " ".join(whens) + f" ELSE {len(bands)} END"


def matched(plan: Plan, average_order_value: Decimal | None) -> dict:
    """Members against non-members alike before enrolment (see the docstring)."""
    last_enrolment = plan.as_of - timedelta(days=FOLLOW_UP_DAYS)
    first_enrolment = last_enrolment - timedelta(days=364)
    reference = first_enrolment + timedelta(days=182)
    window = {
        "enrolled_from": first_enrolment.isoformat(),
        "enrolled_to": last_enrolment.isoformat(),
        "reference_date": reference.isoformat(),
        "follow_up_days": FOLLOW_UP_DAYS,
    }
    if not average_order_value:
        return {**window, "bands": [], "members": 0, "matched_members": 0}
    params: list = []
    occasion_band = _band_case("t.before_occasions", OCCASION_BANDS, params)
    spend_band = _band_case("t.before_spend", SPEND_BANDS, params, average_order_value)
    rows = matched_rows(plan, first_enrolment, last_enrolment, reference)
    grouped = rows.select(
        f"t.member, {occasion_band} AS occasion_band, {spend_band} AS spend_band, "
        "t.after_spend, t.after_occasions",
        tuple(params),
    ).fetch(
        "t.member, t.occasion_band, t.spend_band, COUNT(*) AS customers, "
        "SUM(t.after_spend) AS after_spend, "
        "SUM(CASE WHEN t.after_occasions >= 1 THEN 1 ELSE 0 END) AS bought",
        tail="GROUP BY t.member, t.occasion_band, t.spend_band",
    )
    return {**window, **_weigh(grouped)}


def matched_rows(
    plan: Plan, first_enrolment: date, last_enrolment: date, reference: date
) -> Relation:
    """Per customer compared: member or not, and before/after the pivot day.

    The pivot day is the enrolment day for members (enrolled in the window) and
    the reference day for customers who never enrolled (on file by then).
    "Before" counts occasions and net spend up to the end of the pivot day,
    "after" those in the ``FOLLOW_UP_DAYS`` days that follow it.
    """
    from loyalty.models import Membership

    cutoff = plan.cutoff
    tz = timezone.get_default_timezone()
    in_window = Q(
        membership__enrolled_at__gte=start_of_day(first_enrolment),
        membership__enrolled_at__lt=end_of_day(last_enrolment),
    )
    never = ~Q(
        pk__in=Membership.objects.filter(enrolled_at__lt=cutoff).values("customer_id")
    ) & Q(created_at__lt=end_of_day(reference))
    counted = Q(purchases__occurred_at__lt=cutoff)
    refunded = Case(
        When(
            Q(purchases__refunded_at__lt=cutoff)
            | Q(purchases__refunded_at__isnull=True),
            then=F("purchases__refunded_amount"),
        ),
        default=Value(Decimal("0")),
        output_field=MONEY,
    )
    before = counted & Q(purchase_day__lte=F("pivot_day"))
    after = (
        counted
        & Q(purchase_day__gt=F("pivot_day"))
        & Q(purchase_day__lte=F("follow_up_end"))
    )
    queryset = (
        Customer.objects.filter(in_window | never)
        .annotate(
            pivot_day=Coalesce(
                TruncDate("membership__enrolled_at", tzinfo=tz), Value(reference)
            ),
            purchase_day=TruncDate("purchases__occurred_at", tzinfo=tz),
            purchase_net=ExpressionWrapper(
                F("purchases__amount") - refunded, output_field=MONEY
            ),
        )
        .annotate(
            follow_up_end=ExpressionWrapper(
                F("pivot_day") + timedelta(days=FOLLOW_UP_DAYS),
                output_field=DateField(),
            )
        )
        .values("pk")
        .annotate(
            member=Count("membership"),
            before_occasions=Count("purchase_day", distinct=True, filter=before),
            before_spend=Coalesce(
                Sum("purchase_net", filter=before),
                Value(Decimal("0")),
                output_field=MONEY,
            ),
            after_occasions=Count("purchase_day", distinct=True, filter=after),
            after_spend=Coalesce(
                Sum("purchase_net", filter=after),
                Value(Decimal("0")),
                output_field=MONEY,
            ),
        )
        .order_by()
    )
    return Relation.of(queryset)


def _weigh(grouped: list[dict]) -> dict:
    """Members against non-members band by band, weighted by members per band."""
    bands: dict[tuple, dict] = {}
    for row in grouped:
        key = (int(row["occasion_band"]), int(row["spend_band"]))
        side = "members" if int(row["member"]) else "others"
        bands.setdefault(key, {})[side] = row
    members_total = sum(
        int(b["members"]["customers"]) for b in bands.values() if "members" in b
    )
    matched_members = 0
    member_spend = other_spend = Decimal("0")
    member_bought = other_bought = 0.0
    table = []
    for key in sorted(bands):
        band = bands[key]
        mine, theirs = band.get("members"), band.get("others")
        table.append(
            {
                "occasion_band": key[0],
                "spend_band": key[1],
                "members": int(mine["customers"]) if mine else 0,
                "others": int(theirs["customers"]) if theirs else 0,
            }
        )
        if not (mine and theirs):
            continue
        n = int(mine["customers"])
        matched_members += n
        member_spend += as_decimal(mine["after_spend"])
        other_spend += as_decimal(theirs["after_spend"]) * n / int(theirs["customers"])
        member_bought += int(mine["bought"])
        other_bought += n * int(theirs["bought"]) / int(theirs["customers"])
    if not matched_members:
        return {"bands": table, "members": members_total, "matched_members": 0}
    return {
        "bands": table,
        "members": members_total,
        "matched_members": matched_members,
        "member_spend": (member_spend / matched_members).quantize(Decimal("0.01")),
        "comparison_spend": (other_spend / matched_members).quantize(Decimal("0.01")),
        "member_repeat_rate": member_bought / matched_members,
        "comparison_repeat_rate": other_bought / matched_members,
    }
