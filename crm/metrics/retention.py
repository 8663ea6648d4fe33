"""Retention, churn, acquisition, repeat buying and revenue, per period.

Definitions (shown on the dashboard as well):

- Active at a date: at least one occasion in the activity window ending that day
  (the window's length is the Owner's choice, 365 days unless changed).
- Retention for a period (start, end]: S = customers active at the start, R =
  those of S still active at the end, counted customer by customer; retention =
  R / S, churn = 1 - retention. E = active at the end, N = acquired in the
  period (first occasion in it). With S = 0 there is no rate ("n/a").
- Repeat purchase rate: customers with two or more occasions by the end of the
  period, of those with at least one.
- Purchase frequency: occasions in the period per customer who bought in it.
- Average order value: the period's net revenue per purchase.
- Revenue from returning customers: net revenue in the period from customers
  acquired before it; the rest is from customers new in the period.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum

from customers.models import Customer

from .facts import Plan
from .occasions import counted_purchases, occasions
from .periods import Period, end_of_day, start_of_day
from .sql import Relation, as_decimal, fetch_all, join


def rate(part: int | float | Decimal, whole: int | float | Decimal) -> float | None:
    """part / whole, or None when there is nothing to divide by."""
    if not whole:
        return None
    return float(part) / float(whole)


def retention_counts(plan: Plan, facts: Relation) -> list[dict]:
    """S, E, N and R for each of the plan's periods (``plan.periods`` order)."""
    columns, params = [], []
    for i, period in enumerate(plan.periods):
        at_start, start_params = plan.active_at(period.start_boundary)
        at_end, end_params = plan.active_at(period.last)
        columns += [
            f"SUM(CASE WHEN {at_start} THEN 1 ELSE 0 END) AS s_{i}",
            f"SUM(CASE WHEN {at_end} THEN 1 ELSE 0 END) AS e_{i}",
            f"SUM(CASE WHEN {at_start} AND {at_end} THEN 1 ELSE 0 END) AS r_{i}",
            f"SUM(CASE WHEN t.first_day >= %s AND t.first_day <= %s "
            f"THEN 1 ELSE 0 END) AS n_{i}",
        ]
        params += [
            *start_params,
            *end_params,
            *start_params,
            *end_params,
            period.first,
            period.last,
        ]
    for name in ("cur", "prev"):
        columns += [
            f"SUM(CASE WHEN t.occasions_to_{name} >= 1 THEN 1 ELSE 0 END) "
            f"AS buying_{name}",
            f"SUM(CASE WHEN t.occasions_to_{name} >= 2 THEN 1 ELSE 0 END) "
            f"AS repeat_{name}",
        ]
    row = facts.fetch_one(", ".join(columns), tuple(params))
    counts = []
    for i in range(len(plan.periods)):
        s, e, r, n = (int(row[f"{k}_{i}"] or 0) for k in "sern")
        counts.append({"S": s, "E": e, "N": n, "R": r})
    counts[-1].update(
        buying=int(row["buying_prev"] or 0), repeat=int(row["repeat_prev"] or 0)
    )
    counts[len(plan.trend) - 1].update(
        buying=int(row["buying_cur"] or 0), repeat=int(row["repeat_cur"] or 0)
    )
    return counts


def revenue_trend(
    plan: Plan, facts: Relation, new_revenue: list[Decimal] | None = None
) -> list[dict]:
    """Revenue, returning customers' revenue and purchases per trend period.

    Each of the trend's purchases is put in its period's bucket, and counts as
    returning when the customer's first purchase lies in an earlier bucket
    (before the period). ``new_revenue`` is, per trend period, the revenue from
    the customers acquired in it, when already known: the cohorts' month-0
    revenue, when the trend's periods are the cohort months. Then one pass over
    the purchases without the join to the facts suffices, and returning revenue
    is the rest.
    """
    starts = [p.first for p in plan.trend]
    purchases = Relation.of(
        counted_purchases(plan.cutoff)
        .filter(occurred_at__gte=start_of_day(starts[0]))
        .values("customer_id", "occurred_at", "net")
    )
    bucket, bucket_params = plan.bucket_case("p.occurred_at", starts)
    if new_revenue is not None:
        rows = purchases.select(
            f"{bucket} AS bucket, p.net", bucket_params, alias="p"
        ).select(
            "b.bucket, SUM(b.net) AS revenue, COUNT(*) AS purchases",
            alias="b",
            tail="GROUP BY b.bucket",
        )
        found = {int(row["bucket"]): row for row in fetch_all(rows)}
        flows = []
        for i, new in enumerate(new_revenue):
            row = found.get(i, {})
            returning = as_decimal(row.get("revenue")) - new
            flows.append(_flow({**row, "returning_revenue": returning}))
        return flows
    acquired, acquired_params = plan.bucket_case("f.first_at", starts)
    rows = join(
        purchases,
        facts,
        on="f.customer_id = p.customer_id",
        select=f"{bucket} AS bucket, {acquired} AS acquired, p.net",
        params=bucket_params + acquired_params,
    ).select(
        "b.bucket, SUM(b.net) AS revenue, "
        "SUM(CASE WHEN b.acquired < b.bucket THEN b.net ELSE 0 END) "
        "AS returning_revenue, "
        "COUNT(*) AS purchases",
        alias="b",
        tail="GROUP BY b.bucket",
    )
    found = {int(row["bucket"]): row for row in fetch_all(rows)}
    return [_flow(found.get(i, {})) for i in range(len(plan.trend))]


def period_revenue(plan: Plan, facts: Relation, period: Period) -> dict:
    """Revenue, returning customers' revenue and purchases in one period."""
    purchases = Relation.of(
        counted_purchases(plan.cutoff)
        .filter(
            occurred_at__gte=start_of_day(period.first),
            occurred_at__lt=end_of_day(period.last),
        )
        .values("customer_id", "net")
    )
    (row,) = fetch_all(
        join(
            purchases,
            facts,
            on="f.customer_id = p.customer_id",
            select="SUM(p.net) AS revenue, SUM(CASE WHEN f.first_at < %s "
            "THEN p.net ELSE 0 END) AS returning_revenue, COUNT(*) AS purchases",
            params=(start_of_day(period.first),),
        )
    )
    return _flow(row)


def _flow(row: dict) -> dict:
    revenue = as_decimal(row.get("revenue"))
    returning = as_decimal(row.get("returning_revenue"))
    return {
        "revenue": revenue,
        "revenue_returning": returning,
        "revenue_new": revenue - returning,
        "purchases": int(row.get("purchases") or 0),
    }


def occasion_counts(plan: Plan, period: Period) -> dict:
    """Occasions in the period and the customers who bought in it."""
    in_period = Relation.of(
        occasions(plan.cutoff).filter(
            occurred_at__gte=start_of_day(period.first),
            occurred_at__lt=end_of_day(period.last),
        )
    )
    row = in_period.fetch_one(
        "COUNT(*) AS occasions, COUNT(DISTINCT t.customer_id) AS buyers"
    )
    return {"occasions": int(row["occasions"]), "buyers": int(row["buyers"])}


def customers_on_file(periods: list[Period]) -> list[int]:
    """Customers on file (created) by the end of each period, with one query."""
    counts = Customer.objects.aggregate(
        **{
            f"on_file_{i}": Count(
                "pk", filter=Q(created_at__lt=end_of_day(period.last))
            )
            for i, period in enumerate(periods)
        }
    )
    return [counts[f"on_file_{i}"] for i in range(len(periods))]


def lifetime_average_order_value(cutoff) -> Decimal | None:
    """Net revenue per purchase over all purchases before the cutoff."""
    row = counted_purchases(cutoff).aggregate(total=Sum("net"), n=Count("pk"))
    if not row["n"]:
        return None
    return (as_decimal(row["total"]) / row["n"]).quantize(Decimal("0.01"))
