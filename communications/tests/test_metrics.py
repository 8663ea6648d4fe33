"""outreach_figures: sent per period and per rule, and purchases after messages
beside purchases by customers who were due but held back."""

from datetime import timedelta

import pytest

from communications.metrics import outreach_figures
from communications.models import Message, Status
from customers import services as customer_services

from .helpers import NOW, consenting_customer, make_rule

pytestmark = pytest.mark.django_db

START = NOW - timedelta(days=30)


def message(customer, rule, *, status, at, number):
    return Message.objects.create(
        customer=customer,
        rule=rule,
        template=rule.template,
        trigger=rule.trigger,
        channel="email",
        status=status,
        key=f"m:{number}",
        due_at=at,
        scheduled_for=at,
        stale_after=at + timedelta(days=7),
        sent_at=at if status == Status.SENT else None,
        finished_at=at,
    )


def buy(customer, at):
    customer_services.record_purchase(customer=customer, amount="10", occurred_at=at)


@pytest.fixture
def history():
    check_in = make_rule("check_in", 30, name="Check in")
    win_back = make_rule("win_back", 90, name="Win back")
    customers = [consenting_customer() for _ in range(6)]
    day = NOW - timedelta(days=20)
    # Messaged: 0 buys 3 days later, 1 buys 10 days later (outside 7), 2 never.
    message(customers[0], check_in, status=Status.SENT, at=day, number=0)
    buy(customers[0], day + timedelta(days=3))
    message(customers[1], check_in, status=Status.SENT, at=day, number=1)
    buy(customers[1], day + timedelta(days=10))
    message(customers[2], win_back, status=Status.SENT, at=day + timedelta(days=8),
            number=2)  # fmt: skip
    # Held back: 3 buys 2 days after it was due, 4 never; 5 was also messaged.
    message(customers[3], check_in, status=Status.SKIPPED, at=day, number=3)
    buy(customers[3], day + timedelta(days=2))
    message(customers[4], check_in, status=Status.SKIPPED, at=day, number=4)
    message(customers[5], check_in, status=Status.FAILED, at=day, number=5)
    message(customers[5], win_back, status=Status.SENT, at=day, number=6)
    # Outside the period: not counted.
    message(customers[0], win_back, status=Status.SENT, at=START - timedelta(days=1),
            number=7)  # fmt: skip
    return check_in, win_back


def test_figures_count_sent_messages_per_period_and_rule(history):
    check_in, win_back = history
    figures = outreach_figures(START, NOW, attribution_days=7, period="week")
    assert figures["sent"] == 4
    assert (figures["skipped"], figures["failed"]) == (2, 1)
    assert sum(row["sent"] for row in figures["sent_by_period"]) == 4
    assert [row["period"].weekday() for row in figures["sent_by_period"]] == [0, 0]
    by_rule = {row["name"]: row for row in figures["sent_by_rule"]}
    assert by_rule["Check in"]["sent"] == 2
    assert by_rule["Check in"]["purchased"] == 1
    assert by_rule["Check in"]["share"] == 0.5
    assert by_rule["Win back"]["sent"] == 2
    assert by_rule["Win back"]["rule_id"] == win_back.pk


def test_attribution_compares_messaged_with_held_back_customers(history):
    figures = outreach_figures(START, NOW, attribution_days=7)
    messaged = figures["attribution"]["messaged"]
    held_back = figures["attribution"]["held_back"]
    assert messaged == {"customers": 4, "purchased": 1, "share": 0.25}
    # Customer 5 was messaged too, so is not in the comparison group.
    assert held_back == {"customers": 2, "purchased": 1, "share": 0.5}
    assert figures["attribution"]["difference"] == -0.25


def test_a_longer_window_attributes_a_later_purchase(history):
    figures = outreach_figures(START, NOW, attribution_days=14)
    assert figures["attribution"]["messaged"]["purchased"] == 2


def test_the_window_defaults_to_the_owner_s_setting(history):
    from communications import services

    services.save_policy(
        min_days_between=3,
        max_per_30_days=4,
        quiet_start=NOW.time(),
        quiet_end=NOW.time(),
        attribution_days=14,
    )
    figures = outreach_figures(START, NOW)
    assert figures["attribution_days"] == 14
    assert figures["attribution"]["messaged"]["purchased"] == 2


def test_figures_take_a_fixed_number_of_queries(history, django_assert_num_queries):
    # policy, totals, messaged, held back, per period, per rule
    with django_assert_num_queries(6):
        outreach_figures(START, NOW)
