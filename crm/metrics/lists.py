"""The customers behind each number: the same relations, filtered instead of
counted, so a list always has as many customers as its number says.

A list is identified by a ``kind`` and, for some kinds, a ``key``:

- ``at_start`` (S), ``active`` (E), ``retained`` (R), ``lost`` (S but not E),
  ``new`` (N), ``repeat`` (two or more occasions by the end of the period);
- ``segment`` with a key such as ``champions`` (RFM at the end of the period);
- ``cohort`` with a key ``YYYY-MM:k`` (the cohort of that month with an occasion
  k months later);
- ``members`` and ``non_members`` (customers who had bought, by loyalty);
- ``at_risk``: high-value customers (net spend to date in the top fifth of the
  latest fit's customers) whose probability still active fell by 5 points or
  more over the last 30 days and who were not contacted in ``contact_days``
  days.

Lists are ordered by net spend to date, highest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from crm.models import ClvFit, ClvScore
from customers.models import Customer

from . import comparisons
from .cohorts import COHORT_MONTHS, cohort_rows, first_cohort, month_index
from .facts import Plan, customer_facts
from .periods import MetricsInputError, end_of_day
from .rfm import SEGMENT_NAMES, scores
from .sql import Relation, analytics, fetch_all, materialized

FACTS_KINDS = {
    "at_start": "Active at the start of the period (S)",
    "active": "Active at the end of the period (E)",
    "retained": "Retained: active at the start and still at the end (R)",
    "lost": "Lost: active at the start, no longer at the end (S − R)",
    "new": "New: first occasion in the period (N)",
    "repeat": "Repeat customers: two or more occasions by the end of the period",
    "members": "Loyalty members who had bought by the end of the period",
    "non_members": "Customers who had bought, not loyalty members",
}
KINDS = {
    **FACTS_KINDS,
    "segment": "RFM segment",
    "cohort": "Cohort",
    "at_risk": "At risk",
}


@dataclass(frozen=True)
class CustomerList:
    kind: str
    key: str
    title: str
    customer_ids: list[int]


def _where(plan: Plan, kind: str) -> tuple[str, tuple]:
    at_start, start_params = plan.active_at(plan.period.start_boundary)
    at_end, end_params = plan.active_at(plan.period.last)
    if kind == "at_start":
        return at_start, start_params
    if kind == "active":
        return at_end, end_params
    if kind == "retained":
        return f"{at_start} AND {at_end}", start_params + end_params
    if kind == "lost":
        return f"{at_start} AND NOT ({at_end})", start_params + end_params
    if kind == "new":
        return "t.first_day >= %s AND t.first_day <= %s", (
            plan.period.first,
            plan.period.last,
        )
    if kind == "repeat":
        return "t.occasions_to_cur >= 2", ()
    raise MetricsInputError(f"Unknown list {kind!r}.")


def _ordered_ids(relation: Relation, where: str, params: tuple) -> list[int]:
    rows = relation.fetch(
        "t.customer_id",
        tail=f"WHERE {where} ORDER BY t.value_to_cur DESC, t.customer_id",
        tail_params=params,
    )
    return [int(r["customer_id"]) for r in rows]


def _members_ids(plan: Plan, facts: Relation, members: bool) -> list[int]:
    from loyalty.models import Membership

    enrolled = Relation.of(
        Membership.objects.filter(enrolled_at__lt=end_of_day(plan.period.last))
        .order_by()
        .values("customer_id")
    )
    test = "IS NOT NULL" if members else "IS NULL"
    sql = (
        f"SELECT f.customer_id FROM ({facts.sql}) f LEFT JOIN ({enrolled.sql}) m "
        f"ON m.customer_id = f.customer_id WHERE f.occasions_to_cur >= 1 AND "
        f"m.customer_id {test} ORDER BY f.value_to_cur DESC, f.customer_id"
    )
    rows = fetch_all(Relation(sql, facts.params + enrolled.params))
    return [int(r["customer_id"]) for r in rows]


def _cohort_ids(plan: Plan, facts: Relation, key: str) -> tuple[str, list[int]]:
    try:
        month_text, k_text = key.split(":")
        year, month = (int(part) for part in month_text.split("-"))
        cohort_month, k = date(year, month, 1), int(k_text)
    except ValueError:
        raise MetricsInputError(f"Unknown cohort {key!r} (use YYYY-MM:k).") from None
    first = month_index(first_cohort(plan.as_of))
    cohort = month_index(cohort_month) - first
    if not 0 <= cohort < COHORT_MONTHS or k < 0:
        raise MetricsInputError(f"No cohort {key!r} in the table as of {plan.as_of}.")
    rows = cohort_rows(plan, facts).select(
        "DISTINCT c.customer_id",
        alias="c",
        tail="WHERE c.cohort = %s AND c.month - c.cohort = %s",
        tail_params=(cohort, k),
    )
    ids = sorted(int(r["customer_id"]) for r in fetch_all(rows))
    title = f"Cohort {cohort_month:%B %Y}: with an occasion {k} months after joining"
    if k == 0:
        title = f"Cohort {cohort_month:%B %Y}: acquired that month"
    return title, ids


def at_risk(contact_days: int, as_of=None) -> QuerySet:
    """Scores of high-value customers slipping away with no recent contact."""
    fit = ClvFit.objects.latest_fitted()
    scores_ = ClvScore.objects.filter(fit=fit)
    total = scores_.count()
    if not total:
        return scores_.none()
    threshold = scores_.order_by("-historical_value").values_list(
        "historical_value", flat=True
    )[max(0, total // 5 - 1)]
    quiet = Customer.objects.no_contact_in(contact_days, as_of)
    return (
        scores_.falling()
        .filter(historical_value__gte=threshold, customer__in=quiet)
        .order_by("-historical_value", "customer_id")
    )


def customer_list(
    plan: Plan, kind: str, key: str = "", *, contact_days=30
) -> CustomerList:
    """The customers behind a number, ordered; MetricsInputError when unknown."""
    if kind not in KINDS:
        raise MetricsInputError(f"Unknown list {kind!r}.")
    if kind == "at_risk":
        ids = list(at_risk(contact_days).values_list("customer_id", flat=True))
        title = (
            "At risk: high value, probability still active down 5 points or "
            f"more in 30 days, no contact in {contact_days} days"
        )
        return CustomerList(kind, "", title, ids)
    if kind == "segment" and key not in SEGMENT_NAMES:
        raise MetricsInputError(f"Unknown segment {key!r}.")
    if kind in ("members", "non_members") and not comparisons.loyalty_available():
        raise MetricsInputError("The loyalty program is not installed.")
    with analytics(), materialized(customer_facts(plan), "facts") as facts:
        if kind == "segment":
            ranked = scores(plan, facts)
            rows = fetch_all(
                Relation(
                    f"SELECT s.customer_id FROM ({ranked.sql}) s JOIN ({facts.sql}) t "
                    "ON t.customer_id = s.customer_id WHERE s.segment = %s "
                    "ORDER BY t.value_to_cur DESC, t.customer_id",
                    ranked.params + facts.params + (key,),
                )
            )
            ids = [int(r["customer_id"]) for r in rows]
            title = f"RFM segment: {SEGMENT_NAMES[key]}"
        elif kind == "cohort":
            title, ids = _cohort_ids(plan, facts, key)
        elif kind in ("members", "non_members"):
            ids = _members_ids(plan, facts, kind == "members")
            title = FACTS_KINDS[kind]
        else:
            where, params = _where(plan, kind)
            ids = _ordered_ids(facts, where, params)
            title = FACTS_KINDS[kind]
    return CustomerList(kind, key, title, ids)


def cached_customer_list(
    plan: Plan, kind: str, key: str = "", *, contact_days: int = 30
) -> CustomerList:
    """The list from the cache while its data is unchanged (paging re-reads it)."""
    import hashlib

    from django.core.cache import cache

    from .report import CACHE_SECONDS, data_stamp

    stamp = hashlib.sha256(data_stamp(plan).encode()).hexdigest()[:32]
    cache_key = f"dashboard-list:{plan.cache_key}:{kind}:{key}:{contact_days}:{stamp}"
    found = cache.get(cache_key)
    if found is None:
        found = customer_list(plan, kind, key, contact_days=contact_days)
        cache.set(cache_key, found, CACHE_SECONDS)
    return found
