"""Each trigger's due set on a fixed clock, written once however often it runs."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from communications import services
from communications.models import Campaign, Message, Status, Trigger
from communications.planner import plan_outreach
from communications.triggers import due_set
from customers import services as customer_services
from customers.models import Customer
from customers.tests.factories import CustomerFactory, TagFactory

from .helpers import NOW, consenting_customer, make_rule, make_template

pytestmark = pytest.mark.django_db


def days_ago(days: float):
    return NOW - timedelta(days=days)


def planned_customers(rule) -> set[int]:
    return set(Message.objects.filter(rule=rule).values_list("customer_id", flat=True))


def contacted(customer, at) -> None:
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=at)


def bought(customer, at, amount="20.00"):
    return customer_services.record_purchase(
        customer=customer, amount=amount, occurred_at=at
    )[0]


def test_check_in_is_due_after_n_days_without_contact():
    rule = make_rule(Trigger.CHECK_IN, 30)
    old_contact = consenting_customer(created_at=days_ago(400))
    contacted(old_contact, days_ago(31))
    recent_contact = consenting_customer(created_at=days_ago(400))
    contacted(recent_contact, days_ago(29))
    never_old = consenting_customer(created_at=days_ago(40))
    never_new = consenting_customer(created_at=days_ago(10))
    no_consent = consenting_customer(created_at=days_ago(400), email_opt_in=False)
    no_email = consenting_customer(created_at=days_ago(400), email="")
    plan_outreach(NOW)
    assert planned_customers(rule) == {old_contact.pk, never_old.pk}
    message = Message.objects.get(customer=old_contact)
    assert message.key == f"check-in:{rule.pk}:{old_contact.pk}:{days_ago(31).date()}"
    assert message.status == Status.QUEUED
    assert message.occurrence_at == days_ago(31)
    assert message.due_at == NOW and message.scheduled_for == NOW
    assert message.stale_after == NOW + timedelta(days=7)
    assert not {recent_contact.pk, never_new.pk, no_consent.pk, no_email.pk} & (
        planned_customers(rule)
    )


def test_thank_you_is_due_n_days_after_a_purchase_once_per_day():
    rule = make_rule(Trigger.THANK_YOU, 2)
    due = consenting_customer()
    bought(due, days_ago(2.5))
    bought(due, days_ago(2.4))  # the same day: still one thank-you
    too_soon = consenting_customer()
    bought(too_soon, days_ago(1))
    too_late = consenting_customer()
    bought(too_late, days_ago(10))
    refunded = consenting_customer()
    purchase = bought(refunded, days_ago(2.5))
    customer_services.refund_purchase(purchase=purchase)
    plan_outreach(NOW)
    assert planned_customers(rule) == {due.pk}
    message = Message.objects.get(rule=rule)
    assert message.due_at == days_ago(0.5)
    assert message.stale_after == days_ago(0.5) + timedelta(days=3)


def test_win_back_is_due_after_n_days_without_a_purchase():
    rule = make_rule(Trigger.WIN_BACK, 90)
    lapsed = consenting_customer()
    bought(lapsed, days_ago(100))
    active = consenting_customer()
    bought(active, days_ago(50))
    consenting_customer()  # never bought: nothing to win back
    plan_outreach(NOW)
    assert planned_customers(rule) == {lapsed.pk}


def test_birthday_is_due_on_the_day_and_caught_up_a_day_late():
    rule = make_rule(Trigger.BIRTHDAY, 0)
    today = consenting_customer(birthday=date(1990, 6, 15))
    yesterday = consenting_customer(birthday=date(1985, 6, 14))
    tomorrow = consenting_customer(birthday=date(1985, 6, 16))
    plan_outreach(NOW)
    assert planned_customers(rule) == {today.pk, yesterday.pk}
    assert set(Message.objects.values_list("key", flat=True)) == {
        f"birthday:{rule.pk}:{today.pk}:2024",
        f"birthday:{rule.pk}:{yesterday.pk}:2024",
    }
    late = Message.objects.get(customer=yesterday)
    # A birthday note may be at most 2 days late.
    assert late.stale_after == timezone.make_aware(
        timezone.datetime(2024, 6, 14) + timedelta(days=3)
    )
    assert tomorrow.pk not in planned_customers(rule)


def test_birthday_n_days_ahead_and_29_february_in_a_common_year():
    ahead = make_rule(Trigger.BIRTHDAY, 3)
    in_three_days = consenting_customer(birthday=date(1990, 6, 18))
    plan_outreach(NOW)
    assert planned_customers(ahead) == {in_three_days.pk}
    leap = make_rule(Trigger.BIRTHDAY, 0, name="leap")
    leapling = consenting_customer(birthday=date(2000, 2, 29))
    plan_outreach(timezone.make_aware(timezone.datetime(2023, 2, 28, 12)))
    assert leapling.pk in planned_customers(leap)


def test_welcome_is_due_n_days_after_becoming_a_customer():
    rule = make_rule(Trigger.WELCOME, 1)
    new = consenting_customer(created_at=days_ago(1.5))
    newer = consenting_customer(created_at=days_ago(0.5))
    old = consenting_customer(created_at=days_ago(20))
    plan_outreach(NOW)
    assert planned_customers(rule) == {new.pk}
    assert not {newer.pk, old.pk} & planned_customers(rule)


def test_tags_narrow_the_audience():
    vip = TagFactory(name="VIP")
    rule = make_rule(Trigger.CHECK_IN, 30, tags=[vip])
    tagged = consenting_customer(created_at=days_ago(100))
    tagged.tags.add(vip, TagFactory(name="other"))
    untagged = consenting_customer(created_at=days_ago(100))
    plan_outreach(NOW)
    assert planned_customers(rule) == {tagged.pk}
    assert untagged.pk not in planned_customers(rule)


def test_sms_rules_need_sms_consent_and_a_phone():
    rule = make_rule(Trigger.CHECK_IN, 30, channel="sms")
    ok = consenting_customer(created_at=days_ago(100), email_opt_in=False)
    consenting_customer(created_at=days_ago(100), sms_opt_in=False)
    consenting_customer(created_at=days_ago(100), phone="")
    plan_outreach(NOW)
    assert planned_customers(rule) == {ok.pk}
    assert Message.objects.get().channel == "sms"


def test_running_the_planner_twice_makes_no_new_messages():
    make_rule(Trigger.CHECK_IN, 30)
    make_rule(Trigger.BIRTHDAY, 0)
    make_rule(Trigger.THANK_YOU, 2)
    for number in range(5):
        customer = consenting_customer(
            created_at=days_ago(100), birthday=date(1990, 6, 15)
        )
        bought(customer, days_ago(2.5 + number / 10))
    first = plan_outreach(NOW)
    assert first.total == 15
    assert plan_outreach(NOW).total == 0
    assert plan_outreach(NOW + timedelta(minutes=5)).total == 0
    assert Message.objects.count() == 15


def test_a_new_contact_makes_a_new_check_in_occurrence():
    rule = make_rule(Trigger.CHECK_IN, 30)
    customer = consenting_customer(created_at=days_ago(100))
    plan_outreach(NOW)
    contacted(customer, NOW)
    later = NOW + timedelta(days=31)
    plan_outreach(later)
    assert Message.objects.filter(rule=rule, customer=customer).count() == 2


def test_inactive_rules_plan_nothing():
    make_rule(Trigger.CHECK_IN, 30, active=False)
    consenting_customer(created_at=days_ago(100))
    assert plan_outreach(NOW).total == 0


def test_planned_messages_wait_for_the_end_of_quiet_hours():
    make_rule(Trigger.CHECK_IN, 30)
    consenting_customer(created_at=days_ago(100))
    evening = NOW.replace(hour=21)
    plan_outreach(evening)
    message = Message.objects.get()
    assert message.due_at == evening
    assert message.scheduled_for == (NOW + timedelta(days=1)).replace(hour=8)


def test_a_rule_reports_how_many_customers_it_would_reach_now():
    rule = make_rule(Trigger.CHECK_IN, 30)
    for _ in range(3):
        consenting_customer(created_at=days_ago(100))
    assert due_set(rule, NOW).count_new_customers() == 3
    plan_outreach(NOW)
    assert due_set(rule, NOW).count_new_customers() == 0


def test_the_planner_queries_are_few_whatever_the_number_of_customers(
    django_assert_max_num_queries,
):
    make_rule(Trigger.CHECK_IN, 30)
    make_rule(Trigger.WIN_BACK, 90)
    Customer.objects.bulk_create(
        Customer(
            first_name=f"C{n}",
            email=f"c{n}@example.com",
            email_opt_in=True,
            created_at=days_ago(100),
            last_purchase_at=days_ago(120),
        )
        for n in range(300)
    )
    # policy (1), rules with tags (2), one INSERT per rule (2), savepoints
    # around each rule (4), campaigns due (1): no query per customer.
    with django_assert_max_num_queries(12):
        result = plan_outreach(NOW)
    assert result.total == 600


def test_a_campaign_starts_once_with_its_segment_who_consented(owner_user):
    vip = TagFactory(name="VIP")
    segment = customer_services.save_segment(
        name="VIPs", params={"tag": vip.pk}, by=owner_user
    )
    members = [consenting_customer() for _ in range(3)]
    for customer in members:
        customer.tags.add(vip)
    no_consent = CustomerFactory(email_opt_in=False)
    no_consent.tags.add(vip)
    consenting_customer()  # not in the segment
    campaign = services.save_campaign(
        name="Summer",
        template=make_template(),
        segment=segment,
        everyone=False,
        send_at=timezone.now() + timedelta(hours=1),
        priority=50,
        by=owner_user,
    )
    assert plan_outreach(timezone.now()).total == 0  # not yet
    later = timezone.now() + timedelta(hours=2)
    assert plan_outreach(later).total == 3
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.STARTED
    assert campaign.recipients == 3
    assert set(
        Message.objects.filter(campaign=campaign).values_list("customer", flat=True)
    ) == {c.pk for c in members}
    assert plan_outreach(later).total == 0


def test_a_cancelled_campaign_never_starts(owner_user):
    consenting_customer()
    campaign = services.save_campaign(
        name="Sale",
        template=make_template(),
        segment=None,
        everyone=True,
        send_at=timezone.now() + timedelta(minutes=10),
        priority=50,
    )
    services.cancel_campaign(campaign=campaign, by=owner_user)
    assert plan_outreach(timezone.now() + timedelta(hours=1)).total == 0
    assert not Message.objects.exists()


def test_money_is_not_involved_in_keys():
    # Purchase amounts are decimals; a key is built from ids and dates only.
    rule = make_rule(Trigger.THANK_YOU, 0)
    customer = consenting_customer()
    bought(customer, days_ago(0.1), amount=Decimal("19.99"))
    plan_outreach(NOW)
    assert Message.objects.get().key == f"thank-you:{rule.pk}:{customer.pk}:2024-06-15"


def test_two_purchases_on_one_day_thank_for_the_first_whatever_the_row_order():
    rule = make_rule(Trigger.THANK_YOU, 2)
    customer = consenting_customer()
    bought(customer, days_ago(2.4))  # stored first, happened later
    bought(customer, days_ago(2.5))
    plan_outreach(NOW)
    message = Message.objects.get(rule=rule)
    assert message.occurrence_at == days_ago(2.5)
    assert message.due_at == days_ago(0.5)
