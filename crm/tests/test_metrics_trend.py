"""Revenue by trend period, computed two ways, must agree (hypothesis).

When the trend's periods are the cohort months (a month up to the as-of date),
the report takes the revenue from customers new in each period from the
cohorts' month-0 cells and makes one pass over the purchases without the join
to the customer facts. The joined pass, used for quarters, years and custom
periods, is the reference: on any shop the two give the same revenue, returning
revenue and purchase count for every period.
"""

from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.metrics.cohorts import acquisition_revenue, fetch_cells
from crm.metrics.facts import Plan, customer_facts
from crm.metrics.periods import Period, PeriodKind, choose_period
from crm.metrics.retention import revenue_trend
from crm.metrics.sql import analytics, materialized

from .test_metrics_properties import FIRST_DAY, SPAN, Rollback, shop, write

pytestmark = pytest.mark.django_db


def both_ways(plan: Plan) -> tuple[list, list]:
    with analytics(), materialized(customer_facts(plan), "facts") as facts:
        new_revenue = acquisition_revenue(plan, fetch_cells(plan, facts))
        assert new_revenue is not None
        return revenue_trend(plan, facts), revenue_trend(plan, facts, new_revenue)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories=shop, as_of_offset=st.integers(0, SPAN))
def test_monthly_trend_from_cohorts_equals_the_joined_pass(histories, as_of_offset):
    as_of = FIRST_DAY + timedelta(days=as_of_offset)
    period, as_of = choose_period(kind=PeriodKind.MONTH, as_of=as_of, today=as_of)
    try:
        with transaction.atomic():
            write(histories)
            joined, derived = both_ways(Plan(period, as_of))
            assert derived == joined
            raise Rollback
    except Rollback:
        pass


def test_periods_other_than_the_cohort_months_take_the_joined_pass():
    as_of = date(2025, 3, 20)
    for kind in (PeriodKind.QUARTER, PeriodKind.YEAR):
        period, _ = choose_period(kind=kind, as_of=as_of, today=as_of)
        assert acquisition_revenue(Plan(period, as_of), {}) is None
    custom = Plan(Period(date(2025, 3, 1), date(2025, 3, 10)), as_of)
    assert acquisition_revenue(custom, {}) is None
    # A month seen from a later as-of date: its trend ends before the cohorts.
    february = Period(date(2025, 2, 1), date(2025, 2, 28), PeriodKind.MONTH)
    assert acquisition_revenue(Plan(february, as_of), {}) is None
    march, _ = choose_period(kind=PeriodKind.MONTH, as_of=as_of, today=as_of)
    assert acquisition_revenue(Plan(march, as_of), {}) is not None
