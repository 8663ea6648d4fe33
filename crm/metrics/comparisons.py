"""What loyalty and outreach are worth.

Loyalty, side by side: members (enrolled by the end of the period) against
customers who are not, among those who had bought by then: retention in the
period, repeat purchase rate, average order value (lifetime), historical and
predicted CLV.

Loyalty, matched: members join because they are good customers, so the side by
side flatters the program. The matched comparison takes the members who
enrolled in the year before the last ``FOLLOW_UP_DAYS`` (so each has a full
follow-up) and, for each, what they bought before enrolling (occasions and net
spend, by the end of the enrolment day); customers who never enrolled are
measured the same way at one reference date, the middle of that year. Both are
put in bands of frequency and of spend (as multiples of the average order
value); within each band, members' spend and repeat buying in the follow-up
days are compared with the non-members' in the same band, and the bands are
weighted by how many members are in each (the effect on the members).

Outreach: customers messaged in the period against customers who were due a
message but held back (frequency cap, quiet hours, staleness, opt-out, failure):
the share who bought within the attribution window (communications.metrics).

One point of retention: the lifetime value model's extra revenue over its
horizon if every customer's probability of still being active were one point
higher (crm.metrics.clv.retention_point_value, stored with the nightly fit).
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
    Max,
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
from .retention import rate
from .sql import Relation, adapt, as_decimal, fetch_all

FOLLOW_UP_DAYS = 180
# Bands of purchase frequency before enrolment (occasions) ...
OCCASION_BANDS = [(0, 0), (1, 1), (2, 3), (4, 9), (10, None)]
# ... and of spend before enrolment, in multiples of the average order value.
SPEND_BANDS = [0, 1, 3, 10]


def loyalty_available() -> bool:
    try:
        from loyalty.models import Membership  # noqa: F401
    except ImportError:
        return False
    return True


def outreach_available() -> bool:
    try:
        from communications.metrics import outreach_figures  # noqa: F401
    except ImportError:
        return False
    return True


def _members_relation(cutoff) -> Relation:
    from loyalty.models import Membership

    return Relation.of(
        Membership.objects.filter(enrolled_at__lt=cutoff)
        .order_by()
        .values("customer_id", "enrolled_at")
    )


def _latest_scores() -> Relation:
    from crm.models import ClvFit, ClvScore

    fit = ClvFit.objects.latest_fitted()
    return Relation.of(
        ClvScore.objects.filter(fit=fit)
        .order_by()
        .values("customer_id", "predicted_clv")
    )


def side_by_side(plan: Plan, facts: Relation) -> list[dict]:
    """Members and non-members who had bought by the end of the period."""
    at_start, start_params = plan.active_at(plan.period.start_boundary, "f")
    at_end, end_params = plan.active_at(plan.period.last, "f")
    members = _members_relation(end_of_day(plan.period.last))
    scores = _latest_scores()
    sql = (
        "SELECT CASE WHEN m.customer_id IS NULL THEN 0 ELSE 1 END AS member, "
        "COUNT(*) AS customers, "
        f"SUM(CASE WHEN {at_start} THEN 1 ELSE 0 END) AS s, "
        f"SUM(CASE WHEN {at_start} AND {at_end} THEN 1 ELSE 0 END) AS r, "
        "SUM(CASE WHEN f.occasions_to_cur >= 2 THEN 1 ELSE 0 END) AS repeaters, "
        "SUM(f.value_to_cur) AS spend, SUM(f.purchases_to_cur) AS purchases, "
        "COUNT(c.customer_id) AS scored, SUM(c.predicted_clv) AS predicted "
        f"FROM ({facts.sql}) f "
        f"LEFT JOIN ({members.sql}) m ON m.customer_id = f.customer_id "
        f"LEFT JOIN ({scores.sql}) c ON c.customer_id = f.customer_id "
        "WHERE f.occasions_to_cur >= 1 "
        "GROUP BY CASE WHEN m.customer_id IS NULL THEN 0 ELSE 1 END"
    )
    params = (
        tuple(adapt(p) for p in (*start_params, *start_params, *end_params))
        + facts.params
        + members.params
        + scores.params
    )
    rows = {int(r["member"]): r for r in fetch_all(Relation(sql, params))}
    groups = []
    for member, name in ((1, "members"), (0, "non_members")):
        row = rows.get(member, {})
        customers = int(row.get("customers") or 0)
        spend = as_decimal(row.get("spend"))
        purchases = int(row.get("purchases") or 0)
        scored = int(row.get("scored") or 0)
        groups.append(
            {
                "group": name,
                "customers": customers,
                "S": int(row.get("s") or 0),
                "R": int(row.get("r") or 0),
                "retention_rate": rate(row.get("r") or 0, row.get("s") or 0),
                "repeat_purchase_rate": rate(row.get("repeaters") or 0, customers),
                "average_order_value": _per(spend, purchases),
                "historical_clv": _per(spend, customers),
                "predicted_clv": _per(as_decimal(row.get("predicted")), scored),
                "predicted_n": scored,
            }
        )
    return groups


def _per(total: Decimal, count: int) -> Decimal | None:
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


def outreach(plan: Plan) -> dict | None:
    """Messaged against held-back customers in the period (communications)."""
    from communications.metrics import outreach_figures

    figures = outreach_figures(
        start_of_day(plan.period.first), end_of_day(plan.period.last), period="month"
    )
    return {
        "attribution_days": figures["attribution_days"],
        "sent": figures["sent"],
        "skipped": figures["skipped"],
        "failed": figures["failed"],
        "messaged": figures["attribution"]["messaged"],
        "held_back": figures["attribution"]["held_back"],
        "difference": figures["attribution"]["difference"],
    }


def retention_point() -> dict:
    """The stored fit's value of one point of retention."""
    from crm.models import ClvFit

    fit = ClvFit.objects.latest_fitted()
    if fit is None:
        return {"available": False, "value": None, "horizon_days": None}
    return {
        "available": True,
        "value": fit.retention_point_value,
        "expected_revenue": fit.expected_revenue,
        "horizon_days": fit.horizon_days,
        "as_of": fit.as_of.isoformat(),
    }


def stored_matched() -> dict | None:
    """The matched comparison stored with the latest fit, with its date."""
    from crm.models import ClvFit

    fit = ClvFit.objects.filter(loyalty_matched__isnull=False).first()
    if fit is None:
        return None
    return {"as_of": fit.as_of.isoformat(), **fit.loyalty_matched}


def comparisons(
    plan: Plan, facts: Relation, average_order_value=None, *, live: bool = False
) -> dict:
    """Loyalty side by side and matched, outreach, and one point of retention.

    The matched comparison takes seconds, so the page shows the one computed
    with the nightly fit; ``live`` computes it for the plan's as-of date.
    """
    worth: dict = {"retention_point": retention_point()}
    if loyalty_available():
        worth["loyalty"] = {
            "side_by_side": side_by_side(plan, facts),
            "matched": (
                {"as_of": plan.as_of.isoformat(), **matched(plan, average_order_value)}
                if live
                else stored_matched()
            ),
        }
    else:
        worth["loyalty"] = None
    worth["outreach"] = outreach(plan) if outreach_available() else None
    return worth


def data_stamp(plan: Plan) -> str:
    """What the comparisons rest on besides purchases: enrolments and messages."""
    parts = []
    if loyalty_available():
        from loyalty.models import Membership

        parts.append(Membership.objects.aggregate(n=Count("pk"), last=Max("pk")))
    if outreach_available():
        from communications.models import Message

        parts.append(
            Message.objects.aggregate(
                n=Count("pk"),
                last=Max("pk"),
                sent=Count("pk", filter=Q(sent_at__isnull=False)),
            )
        )
    return repr(parts)
