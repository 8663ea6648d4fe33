"""Each definition of the dashboard on a small shop worked out by hand.

See crm/tests/metrics_world.py for the data and the reasoning behind each
expected number. test_metrics_sqlite.py runs this module again on SQLite.
"""

from datetime import date
from decimal import Decimal

import pytest

from crm.metrics.facts import Plan, customer_facts
from crm.metrics.lists import customer_list
from crm.metrics.periods import Period, PeriodKind, choose_period
from crm.metrics.report import build_report
from crm.metrics.rfm import scores
from crm.metrics.sql import analytics, fetch_all, materialized

from .metrics_world import AS_OF, WINDOW_DAYS, ZONE, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.TIME_ZONE = ZONE
    return build_world()


def march(as_of: date = AS_OF, window: int = WINDOW_DAYS) -> Plan:
    period, as_of = choose_period(kind=PeriodKind.MONTH, as_of=as_of, today=AS_OF)
    return Plan(period, as_of, window_days=window)


def test_retention_is_counted_customer_by_customer(world):
    report = build_report(march())
    # S: Ann, Bob, Dan, Gus; E: Ann, Cat, Eve, Gus; R = S and E: Ann, Gus.
    assert report["customers"] == {
        "on_file": 7,
        "S": 4,
        "E": 4,
        "N": 2,
        "R": 2,
    }
    assert report["retention_rate"] == pytest.approx(0.5)
    assert report["churn_rate"] == pytest.approx(0.5)
    # February: S = Ann, Bob, Dan (Gus's 1 Dec is outside the window ending
    # 31 Jan); all three still active at the end of February.
    before = report["previous"]
    assert before["customers"]["S"] == 3
    assert before["customers"]["E"] == 4
    assert before["customers"]["R"] == 3
    assert before["customers"]["N"] == 0
    assert before["retention_rate"] == pytest.approx(1.0)
    assert before["churn_rate"] == pytest.approx(0.0)


def test_same_day_purchases_are_one_occasion(world):
    report = build_report(march())
    # Ann's two purchases on 5 March are one occasion: Ann 1, Cat 2, Eve 1.
    assert report["occasions"] == 4
    assert report["buyers"] == 3
    assert report["purchase_frequency"] == pytest.approx(4 / 3)
    assert report["purchases"] == 5


def test_revenue_is_net_of_refunds_made_by_the_as_of_day(world):
    report = build_report(march())
    # Ann 50 + Cat (60 + 40 - 10) + Eve 25.
    assert report["revenue"] == Decimal("165.00")
    assert report["revenue_returning"] == Decimal("50.00")  # Ann, acquired in Jan
    assert report["revenue_new"] == Decimal("115.00")
    assert report["average_order_value"] == Decimal("33.00")
    # On 24 March the refund of 25 March had not happened.
    earlier = build_report(march(date(2025, 3, 24)))
    assert earlier["revenue"] == Decimal("150.00")


def test_the_day_is_the_business_time_zones(world):
    report = build_report(march())
    # Eve's 23:30 on 31 March in New York is 1 April in UTC: counted, new.
    # Fay's 00:30 on 1 April is after the as-of day: not counted anywhere.
    eve, fay = world.customers["Eve"].pk, world.customers["Fay"].pk
    new = customer_list(march(), "new").customer_ids
    assert eve in new
    assert fay not in customer_list(march(), "active").customer_ids
    assert report["customers"]["N"] == 2


def test_repeat_purchase_rate_counts_occasions(world):
    report = build_report(march())
    # Two or more occasions: Ann, Cat, Gus; at least one: the six buyers.
    assert report["repeat_customers"] == 3
    assert report["buying_customers"] == 6
    assert report["repeat_purchase_rate"] == pytest.approx(0.5)


def test_satisfaction_scores(world):
    report = build_report(march())
    assert report["csat"] == {"rate": 0.5, "n": 4, "satisfied": 2}
    assert report["nps"]["score"] == pytest.approx(0.0)
    assert report["nps"]["n"] == 5
    assert (report["nps"]["promoters"], report["nps"]["detractors"]) == (2, 2)
    assert report["previous"]["csat"]["rate"] == pytest.approx(1.0)
    assert report["previous"]["nps"] == {
        "score": None,
        "n": 0,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
    }


def test_an_empty_period_has_no_rates_not_zero(world):
    period = Period(date(2024, 6, 1), date(2024, 6, 30), PeriodKind.CUSTOM)
    report = build_report(Plan(period, date(2024, 6, 30), window_days=WINDOW_DAYS))
    assert report["customers"]["S"] == 0
    assert report["retention_rate"] is None
    assert report["churn_rate"] is None
    assert report["repeat_purchase_rate"] is None
    assert report["purchase_frequency"] is None
    assert report["average_order_value"] is None
    assert report["revenue"] == Decimal("0.00")
    assert report["csat"]["rate"] is None
    assert report["nps"]["score"] is None


def test_a_customer_acquired_and_lost_in_one_period(world):
    # The first quarter with a 30-day window: Bob (5 Jan) and Dan (15 Jan) are
    # acquired in it and no longer active at its end; nobody was active at its
    # start (Gus's 1 Dec is 31 days before 31 Dec).
    period, as_of = choose_period(kind=PeriodKind.QUARTER, as_of=AS_OF, today=AS_OF)
    plan = Plan(period, as_of, window_days=30)
    report = build_report(plan)
    assert report["customers"]["N"] == 5  # Ann, Bob, Cat, Dan, Eve
    assert report["customers"]["E"] == 3  # Ann, Cat, Eve
    assert report["customers"]["S"] == 0
    assert report["retention_rate"] is None
    new = set(customer_list(plan, "new").customer_ids)
    active = set(customer_list(plan, "active").customer_ids)
    assert world.ids("Bob", "Dan") <= new
    assert not world.ids("Bob", "Dan") & active


def test_cohorts_by_month_of_acquisition(world):
    table = build_report(march())["cohorts"]["cohorts"]
    by_month = {row["month"]: row for row in table}
    assert len(table) == 12
    assert by_month["2024-12"]["size"] == 1  # Gus
    assert by_month["2024-12"]["active_share"] == [1.0, 0.0, 1.0, 0.0]
    assert by_month["2025-01"]["size"] == 3  # Ann, Bob, Dan
    assert by_month["2025-01"]["active_share"] == pytest.approx([1.0, 0.0, 1 / 3])
    assert by_month["2025-03"]["size"] == 2  # Cat, Eve
    # Revenue view: Jan cohort in March is Ann's 50 over 3 customers.
    assert by_month["2025-01"]["revenue"][2] == Decimal("50.00")
    assert by_month["2025-01"]["revenue_per_customer"][2] == Decimal("16.67")
    # Cohort sizes add up to the acquisitions in those twelve months.
    assert sum(row["size"] for row in table) == 6


def test_an_unfinished_cohort_month_is_blank_not_zero(world):
    table = build_report(march(date(2025, 3, 15)))["cohorts"]["cohorts"]
    by_month = {row["month"]: row for row in table}
    # March is not over on the 15th: Jan's third month and March's first blank.
    assert by_month["2025-01"]["active_share"] == [1.0, 0.0, None]
    assert by_month["2025-03"]["size"] == 1  # Cat (Eve came on the 31st)
    assert by_month["2025-03"]["active_share"] == [None]


def test_rfm_scores_by_quintile_and_segments(world):
    plan = march()
    with analytics(), materialized(customer_facts(plan), "facts") as facts:
        rows = fetch_all(scores(plan, facts))
    got = {
        r["customer_id"]: (r["r_cur"], r["f_cur"], r["m_cur"], r["segment"])
        for r in rows
        if r["segment"]
    }
    c = {name: customer.pk for name, customer in world.customers.items()}
    # Recency: Bob < Dan < Gus < Ann < Cat < Eve; frequency 1 or 2 occasions
    # (ties share the lower rank); monetary 15, 25, 90, 90, 100, 100.
    assert got == {
        c["Bob"]: (1, 1, 5, "at_risk"),
        c["Dan"]: (2, 1, 1, "hibernating"),
        c["Gus"]: (3, 4, 5, "loyal"),
        c["Ann"]: (4, 4, 3, "loyal"),
        c["Cat"]: (5, 4, 3, "champions"),
        c["Eve"]: (5, 1, 2, "potential_loyalists"),
    }
    segments = {s["key"]: s["customers"] for s in build_report(plan)["rfm"]["segments"]}
    assert segments["loyal"] == 2
    assert sum(segments.values()) == 6


def test_each_list_has_as_many_customers_as_its_number(world):
    plan = march()
    report = build_report(plan)
    c = report["customers"]
    expected = {
        "at_start": c["S"],
        "active": c["E"],
        "retained": c["R"],
        "lost": c["S"] - c["R"],
        "new": c["N"],
        "repeat": report["repeat_customers"],
    }
    for kind, number in expected.items():
        assert len(customer_list(plan, kind).customer_ids) == number, kind
    assert set(customer_list(plan, "retained").customer_ids) == world.ids("Ann", "Gus")
    assert set(customer_list(plan, "lost").customer_ids) == world.ids("Bob", "Dan")
    for segment in report["rfm"]["segments"]:
        found = customer_list(plan, "segment", segment["key"]).customer_ids
        assert len(found) == segment["customers"], segment["key"]
    jan = customer_list(plan, "cohort", "2025-01:2").customer_ids
    assert jan == [world.customers["Ann"].pk]
