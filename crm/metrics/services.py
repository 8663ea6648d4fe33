"""Storing the lifetime value fit: the nightly task's one change of state."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from crm.models import ClvFit, ClvScore

from . import clv, comparisons
from .clv_models import FitFailed
from .facts import default_plan_for
from .periods import business_today
from .retention import lifetime_average_order_value
from .sql import analytics

# Scores of older fits are deleted: two fits' worth (today's and the one before)
# are enough to show what changed, and 100,000 rows a night add up.
KEEP_SCORED_FITS = 2
BATCH_SIZE = 5000
CENT = Decimal("0.01")


def _money(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT)


def score_rows(
    fit: ClvFit, data: clv.ClvData, predictions: clv.Predictions
) -> list[ClvScore]:
    """One unsaved ClvScore per customer in the data."""
    recency = data.recency_days
    age = data.T.astype(int)
    occasions = data.occasions.astype(int)
    before = predictions.p_alive_before
    return [
        ClvScore(
            fit=fit,
            customer_id=int(customer_id),
            occasions=int(occasions[i]),
            recency_days=int(recency[i]),
            age_days=int(age[i]),
            p_alive=float(predictions.p_alive[i]),
            p_alive_before=None if np.isnan(before[i]) else float(before[i]),
            expected_occasions=float(predictions.expected_occasions[i]),
            expected_spend=_money(predictions.expected_spend[i]),
            historical_value=_money(data.historical[i]),
            predicted_clv=_money(predictions.predicted_clv[i]),
        )
        for i, customer_id in enumerate(data.customer_ids)
    ]


def _matched_for(as_of: date) -> dict | None:
    """The loyalty matched comparison as of the day, JSON-ready (or None)."""
    if not comparisons.loyalty_available():
        return None
    plan = default_plan_for(as_of)
    with analytics():
        aov = lifetime_average_order_value(plan.cutoff)
        matched = comparisons.matched(plan, aov)
    return json.loads(json.dumps(matched, cls=DjangoJSONEncoder))


def refresh_clv_fit(
    *, as_of: date | None = None, horizon_days: int = clv.DEFAULT_HORIZON_DAYS
) -> ClvFit:
    """Fit the models on the data up to the end of ``as_of`` and store the outcome.

    ``as_of`` defaults to yesterday, the last whole day. Below the data gate, or
    when the fit fails, a ClvFit without predictions records why.
    """
    as_of = as_of or business_today() - timedelta(days=1)
    data = clv.load(as_of)
    fit = ClvFit(
        as_of=as_of,
        time_unit=clv.TIME_UNIT,
        horizon_days=horizon_days,
        customers_used=len(data),
        repeat_customers=int(np.sum(data.x > 0)),
    )
    reason = clv.gate(data)
    if reason:
        fit.status, fit.reason = ClvFit.Status.NOT_ENOUGH_DATA, reason
        fit.save()
        return fit
    try:
        result = clv.fit(data)
    except FitFailed as error:
        fit.status, fit.reason = ClvFit.Status.FAILED, str(error)
        fit.save()
        return fit
    predictions = clv.predict(result, data, horizon_days)
    bgnbd, spend = result.bgnbd, result.gamma_gamma
    fit.status = ClvFit.Status.FITTED
    fit.r, fit.alpha, fit.a, fit.b = bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b
    fit.log_likelihood = bgnbd.log_likelihood
    fit.p, fit.q, fit.gamma = spend.p, spend.q, spend.gamma
    fit.spend_log_likelihood = spend.log_likelihood
    fit.expected_occasions = float(predictions.expected_occasions.sum())
    fit.expected_revenue = _money(predictions.expected_spend.sum())
    fit.retention_point_value = _money(clv.retention_point_value(predictions))
    fit.fit_seconds = result.seconds
    fit.loyalty_matched = _matched_for(as_of)
    with transaction.atomic():
        fit.save()
        ClvScore.objects.bulk_create(
            score_rows(fit, data, predictions), batch_size=BATCH_SIZE
        )
        keep = list(
            ClvFit.objects.fitted().values_list("pk", flat=True)[:KEEP_SCORED_FITS]
        )
        ClvScore.objects.exclude(fit_id__in=keep).delete()
    return fit
