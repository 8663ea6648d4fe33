"""What loyalty and outreach are worth: members side by side, the matched
comparison, the outreach figures and one point of retention."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.metrics import comparisons
from crm.metrics.facts import Plan, customer_facts
from crm.metrics.lists import customer_list
from crm.metrics.periods import PeriodKind, choose_period
from crm.metrics.report import build_report
from crm.metrics.sql import analytics, materialized
from crm.models import ClvFit
from customers import services
from customers.tests.factories import CustomerFactory
from loyalty.models import Membership, Program
from loyalty.services.enrolment import enroll_unchecked

from .metrics_world import AS_OF, WINDOW_DAYS, ZONE, at, build_world

pytestmark = pytest.mark.django_db


def plan_for(as_of: date = AS_OF) -> Plan:
    period, as_of = choose_period(kind=PeriodKind.MONTH, as_of=as_of, today=AS_OF)
    return Plan(period, as_of, window_days=WINDOW_DAYS)


def enrol(customer, when: datetime) -> None:
    enroll_unchecked(customer, program=Program.current())
    Membership.objects.filter(customer=customer).update(enrolled_at=when)


def test_members_and_non_members_side_by_side(settings):
    settings.TIME_ZONE = ZONE
    world = build_world()
    enrol(world.customers["Ann"], at("2025-01-12"))
    enrol(world.customers["Gus"], at("2025-02-01"))
    report = build_report(plan_for())
    members, others = report["comparisons"]["loyalty"]["side_by_side"]
    # Members Ann and Gus: both active at the start and the end, both repeat.
    assert (members["customers"], members["S"], members["R"]) == (2, 2, 2)
    assert members["retention_rate"] == 1.0
    assert members["repeat_purchase_rate"] == 1.0
    # Ann 3 purchases (90.00), Gus 2 (100.00).
    assert members["average_order_value"] == Decimal("38.00")
    assert members["historical_clv"] == Decimal("95.00")
    # Others: Bob, Cat, Dan, Eve; Bob and Dan were active at the start, lost.
    assert (others["customers"], others["S"], others["R"]) == (4, 2, 0)
    assert others["retention_rate"] == 0.0
    assert others["repeat_purchase_rate"] == 0.25  # Cat
    assert members["predicted_clv"] is None  # no fitted model yet
    plan = plan_for()
    assert set(customer_list(plan, "members").customer_ids) == world.ids("Ann", "Gus")
    assert len(customer_list(plan, "non_members").customer_ids) == 4


def test_the_matched_comparison_compares_like_with_like():
    zone = ZoneInfo("UTC")
    on_file = datetime(2023, 1, 1, tzinfo=zone)

    def person(name: str, purchases: list[tuple[str, str]]):
        customer = CustomerFactory(first_name=name, created_at=on_file)
        for day, amount in purchases:
            moment = datetime.fromisoformat(f"{day}T12:00:00+00:00")
            services.record_purchase(
                customer=customer, amount=amount, occurred_at=moment
            )
        return customer

    # As of 31 March 2025: members who joined from 3 Oct 2023 to 2 Oct 2024 are
    # compared; never-members are measured at the reference day, 3 Apr 2024.
    member = person("Mia", [("2024-01-10", "50.00"), ("2024-03-01", "80.00")])
    enrol(member, datetime(2024, 2, 1, 12, tzinfo=zone))
    # Like Mia before joining (one occasion, 50.00): bought 20.00 afterwards.
    person("Noa", [("2024-01-15", "50.00"), ("2024-05-01", "20.00")])
    # One occasion too, but more spend (60.00): another band, no match for Mia.
    person("Oli", [("2024-02-01", "60.00")])
    result = comparisons.matched(plan_for(), Decimal("50.00"))
    assert result["reference_date"] == "2024-04-03"
    assert result["members"] == 1
    assert result["matched_members"] == 1
    assert result["member_spend"] == Decimal("80.00")
    assert result["comparison_spend"] == Decimal("20.00")
    assert result["member_repeat_rate"] == 1.0
    assert result["comparison_repeat_rate"] == 1.0
    bands = {(b["occasion_band"], b["spend_band"]): b for b in result["bands"]}
    assert bands[(1, 1)] == {
        "occasion_band": 1,
        "spend_band": 1,
        "members": 1,
        "others": 1,
    }
    assert bands[(1, 2)]["others"] == 1  # Oli
    assert bands[(1, 2)]["members"] == 0


def test_the_page_shows_the_matched_comparison_of_the_nightly_fit(settings):
    settings.TIME_ZONE = ZONE
    build_world()
    ClvFit.objects.create(
        as_of=AS_OF,
        status=ClvFit.Status.NOT_ENOUGH_DATA,
        loyalty_matched={"members": 3, "matched_members": 0, "bands": []},
    )
    stored = build_report(plan_for())["comparisons"]["loyalty"]["matched"]
    assert stored == {
        "as_of": "2025-03-31",
        "members": 3,
        "matched_members": 0,
        "bands": [],
    }


def test_outreach_and_the_retention_point_are_reported(settings):
    settings.TIME_ZONE = ZONE
    build_world()
    worth = build_report(plan_for())["comparisons"]
    outreach = worth["outreach"]
    assert outreach["sent"] == 0
    assert outreach["messaged"] == {"customers": 0, "purchased": 0, "share": None}
    assert outreach["difference"] is None
    assert worth["retention_point"] == {
        "available": False,
        "value": None,
        "horizon_days": None,
    }


def test_side_by_side_on_the_facts_alone(settings):
    settings.TIME_ZONE = ZONE
    build_world()
    plan = plan_for()
    with analytics(), materialized(customer_facts(plan), "facts") as facts:
        groups = comparisons.side_by_side(plan, facts)
    assert [g["group"] for g in groups] == ["members", "non_members"]
    assert groups[0]["customers"] == 0
    assert groups[0]["retention_rate"] is None
    assert groups[1]["customers"] == 6
