"""The lifetime value models: against the published CDNOW results, on simulated
data with known parameters, and fed from the database.

CDNOW: the 2,357-customer sample of Fader, Hardie & Lee (2005), 39 weeks of
calibration, summarised per customer as x, t_x, T (weeks) and zbar (mean value
of the repeat purchases); crm/tests/data/cdnow_summary.csv (see its README).
"""

import csv
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from crm.metrics import clv
from crm.metrics.clv_models import fit_bgnbd, fit_gamma_gamma
from crm.metrics.services import refresh_clv_fit
from crm.models import ClvFit, ClvScore
from crm.tasks import refresh_clv_fit_task
from customers.models import Customer, Purchase

from .metrics_world import AS_OF, ZONE, build_world

DATA = Path(__file__).parent / "data" / "cdnow_summary.csv"


@pytest.fixture(scope="module")
def cdnow():
    with DATA.open() as handle:
        rows = list(csv.DictReader(handle))
    return {
        name: np.array([float(row[name]) for row in rows])
        for name in ("x", "t_x", "T", "zbar")
    }


def test_the_cdnow_sample_is_the_published_one(cdnow):
    assert len(cdnow["x"]) == 2357
    assert cdnow["x"].sum() == 2457  # repeat purchases in the calibration period
    assert int((cdnow["x"] > 0).sum()) == 946


def test_bgnbd_matches_fader_hardie_lee_2005(cdnow):
    model = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    # Published: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4.
    assert model.r == pytest.approx(0.243, abs=0.0005)
    assert model.alpha == pytest.approx(4.414, abs=0.0005)
    assert model.a == pytest.approx(0.793, abs=0.0005)
    assert model.b == pytest.approx(2.426, abs=0.0005)
    assert model.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    # Their worked example: x = 2, t_x = 30.43, T = 38.86 expects 1.226
    # purchases in the next 39 weeks.
    assert float(model.expected_occasions(39, 2, 30.43, 38.86)) == pytest.approx(
        1.226, abs=0.0005
    )


def test_gamma_gamma_matches_the_published_spend_model(cdnow):
    model = fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    # Published: p = 6.25, q = 3.74, gamma = 15.44.
    assert model.p == pytest.approx(6.25, abs=0.005)
    assert model.q == pytest.approx(3.74, abs=0.005)
    assert model.gamma == pytest.approx(15.44, abs=0.01)


def simulate(n: int, seed: int, r=0.5, alpha=10.0, a=0.8, b=2.5, p=4.0, q=4.0, g=60.0):
    """Customers of a BG/NBD + Gamma-Gamma world, observed for 0 to 400 days.

    Returns (x, t_x, T, m) and the repeat occasions' values per customer.
    """
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1 / alpha, n)
    dropout = rng.beta(a, b, n)
    mean_rate = rng.gamma(q, 1 / g, n)  # nu: the value scale per customer
    T = rng.integers(30, 400, n).astype(float)
    x, t_x, m, values = np.zeros(n), np.zeros(n), np.zeros(n), []
    for i in range(n):
        moment, mine = 0.0, []
        while True:
            moment += rng.exponential(1 / rates[i])
            if moment > T[i]:
                break
            x[i] += 1
            t_x[i] = moment
            mine.append(rng.gamma(p, 1 / mean_rate[i]))
            if rng.random() < dropout[i]:
                break
        values.append(mine)
        m[i] = np.mean(mine) if mine else 0.0
    return x, t_x, T, m, values


def test_the_fit_recovers_known_parameters():
    x, t_x, T, m, _ = simulate(6000, seed=7)
    model = fit_bgnbd(x, t_x, T)
    spend = fit_gamma_gamma(x, m)
    assert model.r == pytest.approx(0.5, rel=0.15)
    assert model.alpha == pytest.approx(10.0, rel=0.25)
    assert model.a == pytest.approx(0.8, rel=0.3)
    assert model.b == pytest.approx(2.5, rel=0.35)
    # The mean value of an occasion, p * gamma / (q - 1) = 80, is what the
    # spend model pins down best.
    assert spend.population_mean == pytest.approx(80.0, rel=0.1)


@pytest.mark.django_db
def test_the_model_inputs_come_from_occasions(settings):
    settings.TIME_ZONE = ZONE
    world = build_world()
    data = clv.load(AS_OF)
    by_id = {int(pk): i for i, pk in enumerate(data.customer_ids)}
    ann = by_id[world.customers["Ann"].pk]
    cat = by_id[world.customers["Cat"].pk]
    # Ann: 10 Jan and 5 Mar (two purchases, one occasion worth 50).
    assert (data.x[ann], data.t_x[ann], data.T[ann], data.m[ann]) == (1, 54, 80, 50)
    # Cat: 3 Mar (60) and 20 Mar (40 less the 10 refunded).
    assert (data.x[cat], data.t_x[cat], data.T[cat], data.m[cat]) == (1, 17, 28, 30)
    assert data.historical[cat] == pytest.approx(90.0)
    assert world.customers["Fay"].pk not in by_id  # bought after the as-of day
    assert "at least 300 customers" in clv.gate(data)


def write_simulated_shop(n: int, seed: int, as_of: date) -> int:
    """A shop whose purchases follow the simulation; returns buyers."""
    x, t_x, T, m, values = simulate(n, seed)
    zone = timezone.get_default_timezone()
    customers = Customer.objects.bulk_create(
        [Customer(email=f"sim{i}@example.com") for i in range(n)]
    )
    rows = []
    for i, customer in enumerate(customers):
        first = as_of - timedelta(days=int(T[i]))
        days = [0] + sorted(
            int(d) for d in np.linspace(t_x[i] / max(x[i], 1), t_x[i], int(x[i]))
        )
        amounts = [Decimal("40.00")] + [Decimal(str(round(v, 2))) for v in values[i]]
        for offset, amount in zip(days, amounts, strict=False):
            moment = datetime.combine(first + timedelta(days=offset), time(12), zone)
            rows.append(Purchase(customer=customer, occurred_at=moment, amount=amount))
    Purchase.objects.bulk_create(rows)
    return n


@pytest.mark.django_db
def test_below_the_gate_no_predictions_are_stored_and_the_reason_is(settings):
    settings.TIME_ZONE = ZONE
    build_world()
    fit = refresh_clv_fit(as_of=AS_OF)
    assert fit.status == ClvFit.Status.NOT_ENOUGH_DATA
    assert "300 customers" in fit.reason
    assert fit.customers_used == 6
    assert not ClvScore.objects.exists()


@pytest.mark.django_db
def test_the_nightly_task_fits_and_stores_every_customers_prediction(settings):
    settings.CLV_MIN_CUSTOMERS = 300
    settings.CLV_MIN_HISTORY_DAYS = 180
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50
    as_of = timezone.localdate() - timedelta(days=1)
    buyers = write_simulated_shop(600, seed=3, as_of=as_of)
    refresh_clv_fit_task.apply()
    fit = ClvFit.objects.get()
    assert fit.status == ClvFit.Status.FITTED, fit.reason
    assert fit.as_of == as_of
    assert fit.time_unit == "days"
    assert fit.customers_used == buyers
    assert all(value > 0 for value in fit.params.values())
    scores = ClvScore.objects.filter(fit=fit)
    assert scores.count() == buyers
    assert not scores.filter(p_alive__lt=0).exists()
    assert not scores.filter(p_alive__gt=1).exists()
    # Predicted CLV is the value to date plus the expected spend.
    one = scores.order_by("-predicted_clv").first()
    assert one.predicted_clv == one.historical_value + one.expected_spend
    total = sum(s.expected_spend for s in scores)
    assert abs(total - fit.expected_revenue) <= Decimal("0.01") * buyers
    assert fit.retention_point_value > 0


@pytest.mark.django_db
def test_at_risk_is_high_value_slipping_and_not_contacted():
    from crm.metrics.lists import at_risk
    from customers.services import log_interaction

    long_ago = timezone.now() - timedelta(days=400)
    customers = Customer.objects.bulk_create(
        [Customer(email=f"r{i}@example.com", created_at=long_ago) for i in range(15)]
    )
    fit = ClvFit.objects.create(as_of=AS_OF, status=ClvFit.Status.FITTED)

    def score(customer, value, now, before):
        return ClvScore(
            fit=fit,
            customer=customer,
            occasions=3,
            recency_days=40,
            age_days=300,
            p_alive=now,
            p_alive_before=before,
            expected_occasions=1.0,
            expected_spend=Decimal("10.00"),
            historical_value=Decimal(value),
            predicted_clv=Decimal(value) + 10,
        )

    slipping, contacted, steady, small = customers[:4]
    ClvScore.objects.bulk_create(
        [
            score(slipping, "900.00", 0.60, 0.80),  # top fifth, fell 20 points
            score(contacted, "880.00", 0.50, 0.90),  # top fifth, but called lately
            score(steady, "950.00", 0.97, 0.99),  # top fifth, fell 2 points only
            score(small, "20.00", 0.20, 0.90),  # fell a lot, but low value
        ]
        + [score(c, "50.00", 0.9, None) for c in customers[4:]]
    )
    log_interaction(customer=contacted, kind="call", subject="How are you?")
    # Top fifth of 15: the three highest (950, 900, 880).
    found = list(at_risk(contact_days=30).values_list("customer_id", flat=True))
    assert found == [slipping.pk]
