"""Properties that hold for any purchase history (hypothesis).

Each example writes a random shop inside a savepoint, computes the report and
rolls back: rates lie in [0, 1], retention + churn = 1, R is within S and E,
cohort sizes add up to the acquisitions, RFM scores are 1 to 5 and the segments
hold every buyer.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.metrics.cohorts import first_cohort
from crm.metrics.facts import Plan, customer_facts
from crm.metrics.periods import PeriodKind, choose_period
from crm.metrics.report import build_report
from crm.metrics.rfm import scores
from crm.metrics.sql import analytics, fetch_all, materialized
from customers.models import Customer, Purchase

pytestmark = pytest.mark.django_db

FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2025, 3, 31)
SPAN = (LAST_DAY - FIRST_DAY).days

purchase = st.tuples(
    st.integers(0, SPAN),  # day
    st.integers(0, 23),  # hour
    st.integers(0, 50_000),  # cents
    st.sampled_from([0, 0, 0, 50, 100]),  # percent refunded
)
shop = st.lists(st.lists(purchase, max_size=6), min_size=0, max_size=10)
choices = st.tuples(
    st.sampled_from([PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR]),
    st.integers(0, SPAN),  # as-of day
    st.integers(7, 400),  # activity window
)


class Rollback(Exception):
    pass


def write(histories: list) -> int:
    """Customers with the purchases; returns how many bought at all."""
    zone = timezone.get_default_timezone()
    customers = Customer.objects.bulk_create(
        [
            Customer(
                email=f"p{i}@example.com", created_at=datetime(2023, 12, 1, tzinfo=zone)
            )
            for i in range(len(histories))
        ]
    )
    rows = []
    for customer, history in zip(customers, histories, strict=True):
        for day, hour, cents, refund in history:
            moment = datetime.combine(
                FIRST_DAY + timedelta(days=day), time(hour), tzinfo=zone
            )
            amount = Decimal(cents) / 100
            rows.append(
                Purchase(
                    customer=customer,
                    occurred_at=moment,
                    amount=amount,
                    refunded_amount=(amount * refund / 100).quantize(Decimal("0.01")),
                    refunded_at=moment + timedelta(days=1) if refund else None,
                )
            )
    Purchase.objects.bulk_create(rows)
    return sum(1 for history in histories if history)


def in_unit_interval(value) -> bool:
    return value is None or 0 <= value <= 1 + 1e-12


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories=shop, picked=choices)
def test_figures_stay_within_their_bounds(histories, picked):
    kind, as_of_offset, window = picked
    as_of = FIRST_DAY + timedelta(days=as_of_offset)
    period, as_of = choose_period(kind=kind, as_of=as_of, today=LAST_DAY)
    plan = Plan(period, as_of, window_days=window)
    try:
        with transaction.atomic():
            write(histories)
            report = build_report(plan)
            with analytics(), materialized(customer_facts(plan), "facts") as facts:
                scored = fetch_all(scores(plan, facts))
            check(report, scored, plan)
            raise Rollback
    except Rollback:
        pass


def check(report: dict, scored: list, plan: Plan) -> None:
    for figures in (report, report["previous"], *report["trend"]):
        for name in ("retention_rate", "churn_rate", "repeat_purchase_rate"):
            assert in_unit_interval(figures.get(name)), name
        if figures.get("retention_rate") is not None:
            assert figures["retention_rate"] + figures["churn_rate"] == pytest.approx(1)
        else:
            assert figures["churn_rate"] is None
        counts = figures.get("customers", figures)
        assert 0 <= counts["R"] <= min(counts["S"], counts["E"])
    assert in_unit_interval(report["csat"]["rate"])
    # Cohort sizes add up to the customers acquired in the cohorts' months.
    start = first_cohort(plan.as_of)
    acquired = sum(1 for row in scored if row["r_cur"] is not None)
    cohort_total = sum(c["size"] for c in report["cohorts"]["cohorts"])
    first_days = Customer.objects.filter(
        purchases__occurred_at__lt=plan.cutoff
    ).distinct()
    in_window = sum(
        1
        for customer in first_days
        if timezone.localdate(
            customer.purchases.filter(occurred_at__lt=plan.cutoff)
            .order_by("occurred_at")
            .first()
            .occurred_at
        )
        >= start
    )
    assert cohort_total == in_window
    for cohort in report["cohorts"]["cohorts"]:
        for share in cohort["active_share"]:
            assert in_unit_interval(share)
    # RFM: every buyer scored 1-5, and in exactly one segment.
    for row in scored:
        if row["r_cur"] is None:
            assert row["segment"] is None
            continue
        for letter in "rfm":
            assert 1 <= row[f"{letter}_cur"] <= 5
        assert row["segment"]
    assert sum(s["customers"] for s in report["rfm"]["segments"]) == acquired
    assert report["rfm"]["customers"] == report["buying_customers"]
