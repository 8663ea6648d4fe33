"""Messages sent by a rule or campaign are not personal contact (issue 13, item 6):
a first run that e-mails everyone leaves "last contact", needs-follow-up, the
check-in rules and the dashboard's at-risk list as they were."""

import importlib
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.utils import timezone

from communications import services
from communications.delivery import Delivery
from communications.forecast import rule_counts
from communications.models import FrequencyPolicy, Message, Status, Trigger
from communications.planner import plan_outreach
from communications.sender import send_message
from communications.triggers import check_in
from crm.metrics.lists import at_risk
from crm.models import ClvFit, ClvScore
from customers import services as customer_services
from customers.models import Customer, Interaction

from .helpers import consenting_customer, make_rule, make_template

pytestmark = pytest.mark.django_db

N = 12
# No quiet hours and no caps: every planned message goes out whatever the clock.
OPEN_POLICY = FrequencyPolicy(
    pk=1,
    min_days_between=0,
    max_per_30_days=100,
    quiet_start=time(0, 0),
    quiet_end=time(0, 0),
)


def customers_with_history(staff_user, now):
    """N customers who joined 400 days ago; every other one called 60 days ago.

    Returns them with when each has been waiting since, worked out here.
    """
    waiting = {}
    for number in range(N):
        customer = consenting_customer(created_at=now - timedelta(days=400 + number))
        waiting[customer.pk] = customer.created_at
        if number % 2 == 0:
            called = now - timedelta(days=60, hours=number)
            customer_services.log_interaction(
                customer=customer, kind="call", by=staff_user, occurred_at=called
            )
            waiting[customer.pk] = called
    return waiting


def scored_as_slipping(customer_ids):
    """A fit in which every customer is high value and falling: all at risk."""
    fit = ClvFit.objects.create(as_of=timezone.localdate(), status=ClvFit.Status.FITTED)
    ClvScore.objects.bulk_create(
        ClvScore(
            fit=fit,
            customer_id=pk,
            occasions=3,
            recency_days=90,
            age_days=400,
            p_alive=0.5,
            p_alive_before=0.9,
            expected_occasions=1.0,
            expected_spend=Decimal("10.00"),
            historical_value=Decimal("900.00"),
            predicted_clv=Decimal("910.00"),
        )
        for pk in customer_ids
    )


def plan_messages(source, check_in_rule, now):
    # The planner reads the stored policy: open it too, or a campaign planned
    # in the evening waits for the morning and the test depends on the clock.
    FrequencyPolicy.objects.filter(pk=OPEN_POLICY.pk).delete()
    OPEN_POLICY.save(force_insert=True)
    if source == "rule":
        check_in_rule.active = True
        check_in_rule.save()
        plan_outreach(now)
        return now
    services.save_campaign(
        name="First newsletter",
        template=make_template(),
        segment=None,
        everyone=True,
        send_at=now + timedelta(minutes=5),
        priority=50,
    )
    later = now + timedelta(minutes=10)
    plan_outreach(later)
    return later


def send_everything(now) -> int:
    delivery = Delivery()
    queued = Message.objects.filter(status=Status.QUEUED).order_by("pk")
    outcomes = [
        send_message(pk, delivery, now=now, policy=OPEN_POLICY)
        for pk in queued.values_list("pk", flat=True)
    ]
    return outcomes.count("sent")


def needs_follow_up_ids():
    return list(Customer.objects.needs_follow_up(30).values_list("pk", flat=True))


def at_risk_ids():
    return list(at_risk(contact_days=30).values_list("customer_id", flat=True))


@pytest.mark.parametrize("source", ["rule", "campaign"])
def test_a_first_run_of_automated_messages_changes_no_contact_figure(
    source, staff_user
):
    now = timezone.now()
    waiting = customers_with_history(staff_user, now)
    scored_as_slipping(waiting)
    rule = make_rule(Trigger.CHECK_IN, 30, active=False)
    contacts_before = dict(Customer.objects.values_list("pk", "last_contact_at"))
    # Worked out here, not read back: longest-waiting first, then by id.
    expected_follow_up = sorted(waiting, key=lambda pk: (waiting[pk], pk))
    expected_at_risk = sorted(waiting)
    assert needs_follow_up_ids() == expected_follow_up
    assert at_risk_ids() == expected_at_risk

    days = [timezone.localdate() + timedelta(days=offset) for offset in range(14)]
    assert rule_counts(rule, days)[0] == N  # all overdue for a check-in
    sending_at = plan_messages(source, rule, now)
    assert send_everything(sending_at) == N
    assert len(mail.outbox) == N

    customers = Customer.objects.all()
    assert dict(customers.values_list("pk", "last_contact_at")) == contacts_before
    sent_at = dict(Message.objects.values_list("customer_id", "sent_at"))
    assert dict(customers.values_list("pk", "last_automated_at")) == sent_at
    assert Interaction.objects.filter(automated=True).count() == N
    assert needs_follow_up_ids() == expected_follow_up
    assert at_risk_ids() == expected_at_risk
    # The check-in rule still finds everyone due, from the same moment; the
    # planner's key keeps it from writing the same check-in twice.
    due = check_in(rule, sending_at).queryset
    assert dict(due.values_list("pk", "waiting_since")) == waiting
    rule.active = True
    rule.save()
    # Sent its check-in already: not forecast (nor planned) again for this wait.
    assert rule_counts(rule, days)[0] == (0 if source == "rule" else N)
    planned_again = plan_outreach(sending_at).total
    assert planned_again == (0 if source == "rule" else N)


def test_an_email_written_by_staff_is_personal_contact(staff_user):
    now = timezone.now()
    waiting = customers_with_history(staff_user, now)
    scored_as_slipping(waiting)
    customer = Customer.objects.get(pk=min(waiting))
    written = customer_services.log_interaction(
        customer=customer,
        kind=Interaction.Kind.EMAIL,
        subject="Your order",
        body="Hello, your order is ready.",
        by=staff_user,
    )
    customer.refresh_from_db()
    assert not written.automated
    assert customer.last_contact_at == written.occurred_at
    assert customer.last_automated_at is None
    assert customer.pk not in needs_follow_up_ids()
    assert customer.pk not in at_risk_ids()
    rule = make_rule(Trigger.CHECK_IN, 30)
    assert customer.pk not in check_in(rule, now).queryset.values_list("pk", flat=True)


def test_the_migration_marks_what_the_sender_wrote_before_and_recomputes(
    staff_user,
):
    migration = importlib.import_module(
        "communications.migrations.0004_mark_automated_interactions"
    )
    now = timezone.now()
    customer = consenting_customer(created_at=now - timedelta(days=400))
    customer_services.log_interaction(
        customer=customer, kind="call", by=staff_user, occurred_at=now - timedelta(50)
    )
    rule = make_rule(Trigger.CHECK_IN, 30)
    sent_at = now - timedelta(days=2)
    Message.objects.create(
        customer=customer,
        rule=rule,
        template=rule.template,
        trigger=rule.trigger,
        channel="email",
        status=Status.SENT,
        key="before-the-fix",
        due_at=sent_at,
        scheduled_for=sent_at,
        stale_after=sent_at + timedelta(days=7),
        sent_at=sent_at,
    )
    # What the sender wrote before automated messages were told apart...
    from_sender = customer_services.log_interaction(
        customer=customer, kind="email", subject="Hello", occurred_at=sent_at
    )
    # ...and a staff e-mail at the same moment, which stays theirs.
    by_staff = customer_services.log_interaction(
        customer=customer, kind="email", by=staff_user, occurred_at=sent_at
    )
    note = customer_services.log_interaction(
        customer=customer, kind="note", subject="Internal", occurred_at=now
    )
    # Whatever the figures said before, they are worked out again.
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=now)

    migration.mark_automated(apps, None)

    flags = dict(customer.interactions.values_list("pk", "automated"))
    assert flags == {
        from_sender.pk: True,
        by_staff.pk: False,
        note.pk: False,
        customer.interactions.get(kind="call").pk: False,
    }
    customer.refresh_from_db()
    assert customer.last_contact_at == sent_at  # the staff e-mail, not the note
    assert customer.last_automated_at == sent_at
