"""What loyalty and outreach are worth.

Loyalty, side by side: members (enrolled by the end of the period) against
customers who are not, among those who had bought by then: retention in the
period, repeat purchase rate, average order value (lifetime), historical and
predicted CLV.

Loyalty, matched: crm.metrics.matching.

Outreach: customers messaged in the period against customers who were due a
message but held back (frequency cap, quiet hours, staleness, opt-out, failure):
the share who bought within the attribution window (communications.metrics).

One point of retention: the lifetime value model's extra revenue over its
horizon if every customer's probability of still being active were one point
higher (crm.metrics.clv.retention_point_value, stored with the nightly fit).
"""

from __future__ import annotations

from django.db.models import (
    Count,
    Max,
    Q,
)

from .facts import Plan
from .matching import matched, per_customer
from .periods import end_of_day, start_of_day
from .retention import rate
from .sql import Relation, adapt, as_decimal, fetch_all


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
                "average_order_value": per_customer(spend, purchases),
                "historical_clv": per_customer(spend, customers),
                "predicted_clv": per_customer(as_decimal(row.get("predicted")), scored),
                "predicted_n": scored,
            }
        )
    return groups


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
