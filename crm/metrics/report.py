"""The dashboard's numbers in one dictionary: the page, its CSV downloads and
``manage.py retention_report`` all read this, so they cannot disagree.

Computing it costs a few passes over the purchases (seconds at a million); the
result is cached under the plan and a stamp of the data it rests on, so a
repeat view is a cache read, and any purchase, refund, feedback, customer or fit
that could change a number gives a new stamp.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Max

from crm.models import ClvFit
from customers.models import Customer, Feedback, Purchase

from . import clv, comparisons
from .clv_models import FitFailed
from .cohorts import acquisition_revenue, cohorts, fetch_cells
from .facts import Plan, customer_facts
from .periods import Period, PeriodKind, business_today, choose_period, end_of_day
from .retention import (
    customers_on_file,
    occasion_counts,
    period_revenue,
    rate,
    retention_counts,
    revenue_trend,
)
from .rfm import rfm
from .satisfaction import satisfaction
from .sql import analytics, materialized

CACHE_SECONDS = 6 * 3600
CACHE_VERSION = 1


def default_as_of():
    """Yesterday: the last whole day, so the figures hold still all day."""
    return business_today() - timedelta(days=1)


def default_plan() -> Plan:
    period, as_of = choose_period(kind=PeriodKind.MONTH, as_of=default_as_of())
    return Plan(period, as_of)


def _headline(
    period: Period, counts: dict, flow: dict, occasions: dict, on_file: int, sat: dict
) -> dict:
    retention = rate(counts["R"], counts["S"])
    revenue = flow["revenue"]
    average = (
        (revenue / flow["purchases"]).quantize(Decimal("0.01"))
        if flow["purchases"]
        else None
    )
    return {
        "period": period.as_dict(),
        "customers": {"on_file": on_file, **{k: counts[k] for k in "SENR"}},
        "retention_rate": retention,
        "churn_rate": None if retention is None else 1 - retention,
        "repeat_purchase_rate": rate(counts["repeat"], counts["buying"]),
        "repeat_customers": counts["repeat"],
        "buying_customers": counts["buying"],
        "purchase_frequency": rate(occasions["occasions"], occasions["buyers"]),
        "occasions": occasions["occasions"],
        "buyers": occasions["buyers"],
        "average_order_value": average,
        "purchases": flow["purchases"],
        "revenue": revenue,
        "revenue_returning": flow["revenue_returning"],
        "revenue_new": flow["revenue_new"],
        "csat": sat["csat"],
        "nps": sat["nps"],
    }


def _trend_point(period: Period, counts: dict, flow: dict, sat: dict) -> dict:
    retention = rate(counts["R"], counts["S"])
    return {
        "period": period.as_dict(),
        "label": period.short_label,
        **{k: counts[k] for k in "SENR"},
        "retention_rate": retention,
        "churn_rate": None if retention is None else 1 - retention,
        "revenue_new": flow["revenue_new"],
        "revenue_returning": flow["revenue_returning"],
        "csat": sat["csat"]["rate"],
        "csat_n": sat["csat"]["n"],
        "nps": sat["nps"]["score"],
        "nps_n": sat["nps"]["n"],
    }


def build_report(plan: Plan, *, live: bool = False) -> dict:
    """Every figure of the dashboard for the plan, computed now.

    The page shows the lifetime value fit and the matched loyalty comparison
    stored by the nightly task; ``live`` (the retention_report command) computes
    both for the plan's as-of date instead, unless a stored fit is of that date.
    """
    current = len(plan.trend) - 1
    with analytics(), materialized(customer_facts(plan), "facts") as facts:
        counts = retention_counts(plan, facts)
        cells = fetch_cells(plan, facts)
        trend_flows = revenue_trend(plan, facts, acquisition_revenue(plan, cells))
        previous_flow = period_revenue(plan, facts, plan.previous)
        current_occasions = occasion_counts(plan, plan.period)
        previous_occasions = occasion_counts(plan, plan.previous)
        on_file, on_file_before = customers_on_file([plan.period, plan.previous])
        sat = satisfaction(plan.periods, plan.cutoff)
        headline = _headline(
            plan.period,
            counts[current],
            trend_flows[current],
            current_occasions,
            on_file,
            sat[current],
        )
        previous = _headline(
            plan.previous,
            counts[-1],
            previous_flow,
            previous_occasions,
            on_file_before,
            sat[-1],
        )
        cohort_table = cohorts(plan, facts, cells=cells)
        rfm_table = rfm(plan, facts)
        worth = comparisons.comparisons(plan, facts, headline["average_order_value"])
    return {
        "as_of": plan.as_of.isoformat(),
        "activity_window_days": plan.window_days,
        **headline,
        "previous_period": plan.previous.as_dict(),
        "previous": previous,
        "trend": [
            _trend_point(period, counts[i], trend_flows[i], sat[i])
            for i, period in enumerate(plan.trend)
        ],
        "cohorts": cohort_table,
        "rfm": rfm_table,
        "clv": live_clv_summary(plan) if live else clv_summary(plan),
        "comparisons": worth,
    }


def clv_summary(plan: Plan, fit: ClvFit | None = None) -> dict:
    """The stored lifetime value fit the dashboard shows (the latest)."""
    fit = fit or ClvFit.objects.order_by("-created_at", "-pk").first()
    if fit is None:
        return {
            "available": False,
            "reason": "The lifetime value models have not been fitted yet. A fit "
            "has been asked for (it also runs every night); look again in a few "
            "minutes.",
            "time_unit": "days",
            "params": None,
            "log_likelihood": None,
            "customers_used": 0,
        }
    return {
        "available": fit.status == ClvFit.Status.FITTED,
        "reason": fit.reason,
        "fit_id": fit.pk,
        "as_of": fit.as_of.isoformat(),
        "fitted_at": fit.created_at.isoformat(),
        "time_unit": fit.time_unit,
        "horizon_days": fit.horizon_days,
        "params": fit.params if fit.status == ClvFit.Status.FITTED else None,
        "log_likelihood": fit.log_likelihood,
        "spend_log_likelihood": fit.spend_log_likelihood,
        "customers_used": fit.customers_used,
        "repeat_customers": fit.repeat_customers,
        "expected_occasions": fit.expected_occasions,
        "expected_revenue": fit.expected_revenue,
        "retention_point_value": fit.retention_point_value,
    }


def live_clv_summary(plan: Plan) -> dict:
    """The models fitted now on data up to the as-of day (nothing is stored)."""
    stored = ClvFit.objects.filter(as_of=plan.as_of).first()
    if stored is not None:
        return clv_summary(plan, stored)
    data = clv.load(plan.as_of)
    summary = {
        "available": False,
        "as_of": plan.as_of.isoformat(),
        "time_unit": clv.TIME_UNIT,
        "horizon_days": clv.DEFAULT_HORIZON_DAYS,
        "params": None,
        "log_likelihood": None,
        "customers_used": len(data),
        "repeat_customers": int((data.x > 0).sum()),
    }
    reason = clv.gate(data)
    if reason is None:
        try:
            result = clv.fit(data)
        except FitFailed as error:
            reason = str(error)
    if reason is not None:
        return {**summary, "reason": reason}
    predictions = clv.predict(result, data, clv.DEFAULT_HORIZON_DAYS)
    bgnbd, spend = result.bgnbd, result.gamma_gamma
    return {
        **summary,
        "available": True,
        "reason": "",
        "params": {
            "r": bgnbd.r,
            "alpha": bgnbd.alpha,
            "a": bgnbd.a,
            "b": bgnbd.b,
            "p": spend.p,
            "q": spend.q,
            "gamma": spend.gamma,
        },
        "log_likelihood": bgnbd.log_likelihood,
        "spend_log_likelihood": spend.log_likelihood,
        "expected_occasions": float(predictions.expected_occasions.sum()),
        "expected_revenue": Decimal(
            repr(float(predictions.expected_spend.sum()))
        ).quantize(Decimal("0.01")),
        "retention_point_value": Decimal(
            repr(clv.retention_point_value(predictions))
        ).quantize(Decimal("0.01")),
    }


def data_stamp(plan: Plan) -> str:
    """What the figures rest on; it changes whenever a figure could.

    Purchases and feedback dated up to the as-of day (count and newest id: a
    back-dated import changes them), customers (count: merges and deletions;
    for an as-of of today also their last change, which every purchase and
    refund touches), the latest fit, and the comparison apps' own stamp.
    """
    cutoff = end_of_day(plan.as_of)
    purchases = Purchase.objects.filter(occurred_at__lt=cutoff).aggregate(
        n=Count("pk"), last=Max("pk")
    )
    feedback = Feedback.objects.filter(occurred_at__lt=cutoff).aggregate(
        n=Count("pk"), last=Max("pk")
    )
    customer_columns = {"n": Count("pk"), "last": Max("pk")}
    if plan.as_of >= business_today():
        customer_columns["changed"] = Max("updated_at")
    customers = Customer.objects.aggregate(**customer_columns)
    fit = ClvFit.objects.order_by("-created_at", "-pk").values_list("pk").first()
    parts = [purchases, feedback, customers, fit, comparisons.data_stamp(plan)]
    return "|".join(str(part) for part in parts)


def cached_report(plan: Plan) -> dict:
    """The report from the cache when its data has not changed, else computed."""
    stamp = hashlib.sha256(data_stamp(plan).encode()).hexdigest()[:32]
    key = f"dashboard:v{CACHE_VERSION}:{plan.cache_key}:{stamp}"
    report = cache.get(key)
    if report is None:
        report = build_report(plan)
        cache.set(key, report, CACHE_SECONDS)
    return report


def warm_default_report() -> None:
    """Compute the dashboard's default view into the cache (after the nightly fit)."""
    cached_report(default_plan())
