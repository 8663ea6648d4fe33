"""Loyalty in outreach: tier and points in templates, the points-expiring,
member-welcome and tier-reached triggers, and audiences by membership and tier."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from communications.context import customer_context
from communications.delivery import Delivery
from communications.models import Message, Trigger
from communications.planner import plan_outreach
from communications.sender import send_message
from communications.triggers import due_set
from loyalty import services as loyalty_services
from loyalty.tests.factories import TierFactory, buy, run_program

from .helpers import consenting_customer, make_rule, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(db):
    return run_program(expiry_months=12)


def planned(rule) -> set[int]:
    return set(Message.objects.filter(rule=rule).values_list("customer_id", flat=True))


def test_the_context_holds_tier_balance_and_expiring_points(program):
    gold = TierFactory(name="Gold", threshold=Decimal("100"))
    customer = consenting_customer()
    # Earned 11 months and 3 weeks ago: expires in about 9 days.
    earned = timezone.now() - timedelta(days=356)
    buy(customer, 150, at=earned)
    context = customer_context(customer, channel="email", expiring_within=30)
    assert context["tier"] == gold.name
    assert context["points_balance"] == 150
    assert context["points_expiring"] == 150
    assert context["points_expire_on"] > timezone.localdate()
    stranger = customer_context(consenting_customer(), channel="email")
    assert (stranger["tier"], stranger["points_balance"]) == ("", 0)
    assert stranger["points_expire_on"] is None


def test_points_expiring_within_n_days_are_due_once_per_expiry_day(
    program, no_quiet_hours
):
    template = make_template(
        subject="{{ points_expiring }} points expire on "
        "{{ points_expire_on|date:'Y-m-d' }}"
    )
    rule = make_rule(Trigger.POINTS_EXPIRING, 14, template=template)
    soon = consenting_customer()
    buy(soon, 40, at=timezone.now() - timedelta(days=360))
    later = consenting_customer()
    buy(later, 40, at=timezone.now() - timedelta(days=200))
    assert due_set(rule, timezone.now()).count_new_customers() == 1
    plan_outreach()
    assert planned(rule) == {soon.pk}
    assert due_set(rule, timezone.now()).count_new_customers() == 0
    message = Message.objects.get(rule=rule)
    expire_on = message.key.rsplit(":", 1)[1]
    assert message.key == f"points-expiring:{rule.pk}:{soon.pk}:{expire_on}"
    assert plan_outreach().total == 0
    assert send_message(message.pk, Delivery()) == "sent"
    assert mail.outbox[0].subject == f"40 points expire on {expire_on}"


def test_member_welcome_is_due_n_days_after_joining(program):
    rule = make_rule(Trigger.MEMBER_WELCOME, 1)
    member = consenting_customer()
    loyalty_services.enroll(member)
    consenting_customer()  # not a member
    plan_outreach()
    assert planned(rule) == set()  # joined just now
    plan_outreach(timezone.now() + timedelta(days=1, hours=1))
    assert planned(rule) == {member.pk}
    assert plan_outreach(timezone.now() + timedelta(days=1, hours=2)).total == 0


def test_tier_reached_is_due_when_a_member_moves_up(program):
    silver = TierFactory(name="Silver", threshold=Decimal("100"))
    gold = TierFactory(name="Gold", threshold=Decimal("500"))
    any_tier = make_rule(Trigger.TIER_REACHED, 0, name="Any tier")
    gold_only = make_rule(Trigger.TIER_REACHED, 0, name="Gold", tier=gold)
    climber = consenting_customer()
    buy(climber, 150)  # into Silver
    buy(climber, 400)  # into Gold
    stays = consenting_customer()
    buy(stays, 50)
    plan_outreach()
    assert Message.objects.filter(rule=any_tier, customer=climber).count() == 2
    assert planned(gold_only) == {climber.pk}
    assert stays.pk not in planned(any_tier)
    reached = Message.objects.filter(rule=any_tier).order_by("pk")
    assert [m.occurrence_at <= timezone.now() for m in reached] == [True, True]
    assert silver.memberships.count() == 0  # moved on to Gold
    assert plan_outreach().total == 0


def test_audiences_by_membership_and_tier(program):
    gold = TierFactory(name="Gold", threshold=Decimal("100"))
    long_ago = timezone.now() - timedelta(days=100)
    members_only = make_rule(Trigger.CHECK_IN, 30, name="members", membership="members")
    non_members = make_rule(
        Trigger.CHECK_IN, 30, name="others", membership="non_members"
    )
    gold_members = make_rule(Trigger.CHECK_IN, 30, name="gold", tier=gold)
    in_gold = consenting_customer(created_at=long_ago)
    buy(in_gold, 200, at=long_ago)
    plain_member = consenting_customer(created_at=long_ago)
    loyalty_services.enroll(plain_member)
    outsider = consenting_customer(created_at=long_ago)
    plan_outreach()
    assert planned(members_only) == {in_gold.pk, plain_member.pk}
    assert planned(non_members) == {outsider.pk}
    assert planned(gold_members) == {in_gold.pk}


def test_the_rule_form_offers_membership_and_tier(owner_client, program):
    from django.urls import reverse

    from communications.models import FollowUpRule

    gold = TierFactory(name="Gold", threshold=Decimal("100"))
    response = owner_client.post(
        reverse("communications:rule-create"),
        {
            "name": "Gold check-in",
            "trigger": "check_in",
            "days": "30",
            "channel": "email",
            "template": make_template().pk,
            "membership": "members",
            "tier": gold.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule = FollowUpRule.objects.get()
    assert (rule.membership, rule.tier) == ("members", gold)
