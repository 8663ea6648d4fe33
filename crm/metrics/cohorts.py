"""Cohorts: customers grouped by the month of their first occasion.

Cell k of a cohort is the share of its customers with an occasion in the k-th
calendar month after the acquisition month (k = 0 is that month itself, so
100%), and the revenue view is the cohort's net revenue in that month. A month
not yet over at the as-of date is left blank (None), not shown as 0%.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .facts import Plan
from .occasions import counted_purchases
from .periods import start_of_day
from .retention import rate
from .sql import Relation, as_decimal, fetch_all, join

COHORT_MONTHS = 12


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> date:
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


def first_cohort(as_of: date, count: int = COHORT_MONTHS) -> date:
    return month_of(month_index(as_of) - count + 1)


def cohort_rows(plan: Plan, facts: Relation, count: int = COHORT_MONTHS) -> Relation:
    """(customer_id, cohort, month, net) per purchase of the recent cohorts.

    Months are numbered from the first cohort (0) to the as-of month; a purchase
    falls in month m and its customer in cohort c by comparing moments with the
    months' first midnights, so no date function runs per row.
    """
    start = first_cohort(plan.as_of, count)
    starts = [month_of(month_index(start) + i) for i in range(count)]
    purchases = Relation.of(
        counted_purchases(plan.cutoff)
        .filter(occurred_at__gte=start_of_day(start))
        .values("customer_id", "occurred_at", "net")
    )
    month, month_params = plan.bucket_case("p.occurred_at", starts)
    cohort, cohort_params = plan.bucket_case("f.first_at", starts)
    return join(
        purchases,
        facts,
        on="f.customer_id = p.customer_id",
        select=f"p.customer_id, {cohort} AS cohort, {month} AS month, p.net",
        params=cohort_params + month_params,
        tail="WHERE f.first_at >= %s",
        tail_params=(start_of_day(start),),
    )


def cohort_cells(plan: Plan, facts: Relation, count: int = COHORT_MONTHS) -> Relation:
    """(cohort, k, customers, revenue) for the cohorts of the last ``count`` months.

    Cohorts and months are numbered from the first cohort's month (0).
    """
    return cohort_rows(plan, facts, count).select(
        "c.cohort, c.month - c.cohort AS k, COUNT(DISTINCT c.customer_id) AS "
        "customers, SUM(c.net) AS revenue",
        alias="c",
        tail="GROUP BY c.cohort, c.month - c.cohort",
    )


def fetch_cells(plan: Plan, facts: Relation, count: int = COHORT_MONTHS) -> dict:
    """The cohort cells by (month index of the cohort, k)."""
    first = month_index(first_cohort(plan.as_of, count))
    return {
        (first + int(c["cohort"]), int(c["k"])): c
        for c in fetch_all(cohort_cells(plan, facts, count))
    }


def acquisition_revenue(
    plan: Plan, cells: dict, count: int = COHORT_MONTHS
) -> list[Decimal] | None:
    """Per trend period, the revenue from the customers acquired in it.

    Known from the cohorts (each cohort's month-0 revenue) when the trend's
    periods are the cohort months, as for a month up to the as-of date; None
    otherwise (quarters, years, custom periods).
    """
    first = month_index(first_cohort(plan.as_of, count))
    months = [month_of(first + i) for i in range(count)]
    if [period.first for period in plan.trend] != months:
        return None
    return [
        as_decimal(cells.get((first + i, 0), {}).get("revenue")) for i in range(count)
    ]


def cohorts(
    plan: Plan,
    facts: Relation,
    count: int = COHORT_MONTHS,
    cells: dict | None = None,
) -> dict:
    """The cohort table: one row per acquisition month, oldest first.

    ``cells`` are those of ``fetch_cells`` when already fetched.
    """
    first = month_index(first_cohort(plan.as_of, count))
    if cells is None:
        cells = fetch_cells(plan, facts, count)
    last_month = month_index(plan.as_of)
    # The as-of month counts as over only on its last day.
    complete_until = last_month if _is_month_end(plan.as_of) else last_month - 1
    table = []
    for cohort in range(first, last_month + 1):
        size = cells.get((cohort, 0), {}).get("customers", 0) or 0
        shares, revenue, revenue_per_customer = [], [], []
        for k in range(0, last_month - cohort + 1):
            if cohort + k > complete_until:
                shares.append(None)
                revenue.append(None)
                revenue_per_customer.append(None)
                continue
            cell = cells.get((cohort, k), {})
            customers = int(cell.get("customers") or 0)
            money = as_decimal(cell.get("revenue"))
            shares.append(rate(customers, size))
            revenue.append(money)
            revenue_per_customer.append(
                (money / size).quantize(Decimal("0.01")) if size else None
            )
        table.append(
            {
                "month": month_of(cohort).isoformat()[:7],
                "size": int(size),
                "active_share": shares,
                "active": [
                    None
                    if s is None
                    else int(cells.get((cohort, k), {}).get("customers") or 0)
                    for k, s in enumerate(shares)
                ],
                "revenue": revenue,
                "revenue_per_customer": revenue_per_customer,
            }
        )
    return {"months": count, "cohorts": table}


def _is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month
