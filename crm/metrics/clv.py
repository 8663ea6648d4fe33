"""Predicted lifetime value: the shop's purchase history fed to BG/NBD and
Gamma-Gamma (see clv_models), per customer and for the whole base.

Time is counted in days (``TIME_UNIT``): for each customer with an occasion by
the end of the as-of day, ``x`` = repeat occasions, ``t_x`` = days from the first
to the last occasion, ``T`` = days from the first occasion to the as-of day, and
``m`` = the mean net value of the repeat occasions.

Per customer, over a horizon (365 days unless asked otherwise):

- ``p_alive``: probability the customer is still active (has not dropped out);
- ``expected_occasions``: expected repeat occasions in the horizon;
- ``expected_spend``: expected net spend in the horizon (expected occasions
  times the Gamma-Gamma expected value of an occasion);
- ``historical_value``: net spend to date (historical CLV);
- ``predicted_clv``: historical value plus expected spend, what the customer
  will have been worth by the end of the horizon (not discounted).

Predictions are given only above a minimum of data (the gate); below it the
reason is given instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
from django.conf import settings

from .clv_models import BgNbd, FitFailed, GammaGamma, fit_bgnbd, fit_gamma_gamma
from .occasions import cutoff_for, history
from .sql import analytics, as_date

TIME_UNIT = "days"
DEFAULT_HORIZON_DAYS = 365
# "Falling": the probability still active now against 30 days ago.
FALLING_OVER_DAYS = 30


def gate_settings() -> dict:
    return {
        "min_customers": getattr(settings, "CLV_MIN_CUSTOMERS", 300),
        "min_history_days": getattr(settings, "CLV_MIN_HISTORY_DAYS", 180),
        "min_repeat_customers": getattr(settings, "CLV_MIN_REPEAT_CUSTOMERS", 100),
    }


@dataclass
class ClvData:
    """The model's inputs, one entry per customer with an occasion, by id."""

    as_of: date
    customer_ids: np.ndarray
    occasions: np.ndarray
    first_days: np.ndarray  # datetime64[D]
    last_days: np.ndarray
    historical: np.ndarray  # net spend to date, float
    first_values: np.ndarray

    @property
    def x(self) -> np.ndarray:
        return self.occasions - 1.0

    @property
    def t_x(self) -> np.ndarray:
        return (self.last_days - self.first_days).astype(float)

    @property
    def T(self) -> np.ndarray:  # noqa: N802 - the model's own name
        return (np.datetime64(self.as_of, "D") - self.first_days).astype(float)

    @property
    def recency_days(self) -> np.ndarray:
        return (np.datetime64(self.as_of, "D") - self.last_days).astype(int)

    @property
    def m(self) -> np.ndarray:
        """Mean net value of the repeat occasions (0 where there are none)."""
        repeats = self.x
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = (self.historical - self.first_values) / repeats
        return np.where(repeats > 0, np.maximum(mean, 0.0), 0.0)

    def __len__(self) -> int:
        return len(self.customer_ids)


def load(as_of: date) -> ClvData:
    """Every customer's occasions summary up to the end of the as-of day."""
    with analytics():
        rows = history(cutoff_for(as_of)).fetch(
            "t.customer_id, t.occasions, t.first_day, t.last_day, t.total_value, "
            "t.first_value",
            tail="ORDER BY t.customer_id",
        )
    count = len(rows)
    return ClvData(
        as_of=as_of,
        customer_ids=np.fromiter((r["customer_id"] for r in rows), int, count),
        occasions=np.fromiter((r["occasions"] for r in rows), float, count),
        first_days=np.array([as_date(r["first_day"]) for r in rows], "datetime64[D]"),
        last_days=np.array([as_date(r["last_day"]) for r in rows], "datetime64[D]"),
        historical=np.fromiter((float(r["total_value"]) for r in rows), float, count),
        first_values=np.fromiter((float(r["first_value"]) for r in rows), float, count),
    )


def gate(data: ClvData) -> str | None:
    """Why predictions cannot be trusted on this data, or None when they can."""
    limits = gate_settings()
    if len(data) < limits["min_customers"]:
        return (
            f"Predictions need at least {limits['min_customers']} customers with "
            f"purchases; there are {len(data)}."
        )
    history_days = int(data.T.max()) if len(data) else 0
    if history_days < limits["min_history_days"]:
        return (
            f"Predictions need at least {limits['min_history_days']} days of "
            f"purchase history; there are {history_days}."
        )
    repeaters = int(np.sum((data.x > 0) & (data.m > 0)))
    if repeaters < limits["min_repeat_customers"]:
        return (
            f"Predictions need at least {limits['min_repeat_customers']} customers "
            f"who came back to buy; there are {repeaters}."
        )
    return None


@dataclass
class ClvFitResult:
    bgnbd: BgNbd
    gamma_gamma: GammaGamma
    seconds: float


def fit(data: ClvData) -> ClvFitResult:
    """Fit both models; raises FitFailed when the data cannot support them."""
    started = time.monotonic()
    bgnbd = fit_bgnbd(data.x, data.t_x, data.T)
    gamma_gamma = fit_gamma_gamma(data.x, data.m)
    if bgnbd.a <= 1 and not np.isfinite(bgnbd.a):
        raise FitFailed("BG/NBD did not converge.")
    if gamma_gamma.q <= 1:
        raise FitFailed(
            "The spend model has no finite mean (q <= 1): a few very large "
            "occasions dominate; predictions would not be meaningful."
        )
    return ClvFitResult(bgnbd, gamma_gamma, time.monotonic() - started)


@dataclass
class Predictions:
    p_alive: np.ndarray
    p_alive_before: np.ndarray  # NaN where it cannot be compared (bought lately)
    expected_occasions: np.ndarray
    expected_occasions_if_alive: np.ndarray
    value_per_occasion: np.ndarray
    expected_spend: np.ndarray
    predicted_clv: np.ndarray


def predict(result: ClvFitResult, data: ClvData, horizon_days: int) -> Predictions:
    """Per-customer predictions over the horizon (in days)."""
    model, spend = result.bgnbd, result.gamma_gamma
    x, t_x, T = data.x, data.t_x, data.T
    p_alive = model.p_alive(x, t_x, T)
    earlier = T - FALLING_OVER_DAYS
    comparable = earlier >= t_x
    p_before = np.where(
        comparable, model.p_alive(x, t_x, np.maximum(earlier, t_x)), np.nan
    )
    if_alive = model.expected_occasions_if_alive(horizon_days, x, T)
    expected = p_alive * if_alive
    value = spend.expected_value(x, data.m)
    expected_spend = expected * value
    return Predictions(
        p_alive=p_alive,
        p_alive_before=p_before,
        expected_occasions=expected,
        expected_occasions_if_alive=if_alive,
        value_per_occasion=value,
        expected_spend=expected_spend,
        predicted_clv=data.historical + expected_spend,
    )


def retention_point_value(predictions: Predictions) -> float:
    """The model's extra revenue over the horizon if retention rose one point.

    Each customer's probability of still being active is raised by one
    percentage point (capped at certainty); an active customer is expected to
    buy ``expected_occasions_if_alive`` times at ``value_per_occasion``.
    """
    extra = np.minimum(0.01, 1.0 - predictions.p_alive)
    return float(
        np.sum(
            extra
            * predictions.expected_occasions_if_alive
            * predictions.value_per_occasion
        )
    )
