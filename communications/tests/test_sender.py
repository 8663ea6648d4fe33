"""The sender: claims, checks consent, caps, quiet hours and priority again at send
time, delivers, records; retries transient errors with backoff."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from communications import services
from communications.delivery import Delivery, sms
from communications.models import FrequencyPolicy, Message, Status, Trigger
from communications.sender import retry_delay, send_chunk, send_message
from customers import services as customer_services
from customers.models import Customer, Interaction

from .helpers import NOW, consenting_customer, make_rule, queue_message, sent_before

pytestmark = pytest.mark.django_db


def send(message, now=NOW) -> str:
    return send_message(message.pk, Delivery(), now=now)


def test_a_due_message_is_sent_recorded_and_on_the_timeline():
    customer = consenting_customer(first_name="Zoë")
    message = queue_message(customer, now=NOW)
    assert send(message) == "sent"
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.sent_at is not None and message.provider_id
    assert message.to_address == customer.email
    assert message.subject == "Hello Zoë"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [customer.email]
    assert email.subject == "Hello Zoë"
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.kind == Interaction.Kind.EMAIL
    assert interaction.direction == Interaction.Direction.OUTBOUND
    assert interaction.subject == "Hello Zoë"
    assert interaction.automated
    customer.refresh_from_db()
    assert customer.last_automated_at == message.sent_at
    assert customer.last_contact_at is None  # a rule's message is not contact


def test_the_email_carries_one_click_unsubscribe_headers_and_link():
    message = queue_message(consenting_customer(), now=NOW)
    send(message)
    email = mail.outbox[0]
    link = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://") and "/unsubscribe/" in link
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in email.body  # appended: the template did not include it
    message.refresh_from_db()
    assert email.extra_headers["Message-ID"] == message.provider_id
    assert email.extra_headers["Idempotency-Key"].startswith(
        f"crm-message-{message.pk}-"
    )


def test_sms_goes_through_the_sms_backend(settings):
    settings.SMS_BACKEND = "communications.delivery.sms.LocmemSmsBackend"
    sms.outbox.clear()
    customer = consenting_customer()
    rule = make_rule(Trigger.CHECK_IN, 30, channel="sms")
    message = queue_message(customer, now=NOW, rule=rule, channel="sms")
    assert send(message) == "sent"
    assert len(sms.outbox) == 1
    # In E.164, whatever the spacing the customer's record has.
    assert sms.outbox[0]["to"] == customer.phone.replace(" ", "")
    assert "/unsubscribe/" in sms.outbox[0]["body"]
    assert Interaction.objects.get(customer=customer).kind == Interaction.Kind.SMS
    assert not mail.outbox


def test_an_opt_out_after_planning_ends_as_skipped_not_sent():
    customer = consenting_customer()
    message = queue_message(customer, now=NOW)
    customer_services.update_customer(customer=customer, email_opt_in=False)
    assert send(message) == "not sent"
    message.refresh_from_db()
    assert message.status == Status.SKIPPED
    assert "consented" in message.reason
    assert message.finished_at == NOW
    assert not mail.outbox
    assert not Interaction.objects.exists()


def test_a_message_is_claimed_once_so_a_second_send_does_nothing():
    message = queue_message(consenting_customer(), now=NOW)
    assert send(message) == "sent"
    assert send(message) == "not claimed"
    assert send_chunk([message.pk, message.pk]) == {"not claimed": 2}
    assert len(mail.outbox) == 1


def test_a_message_not_yet_due_is_not_claimed():
    message = queue_message(consenting_customer(), now=NOW + timedelta(hours=1))
    assert send(message) == "not claimed"
    assert Message.objects.get().status == Status.QUEUED


def test_frequency_cap_holds_a_message_until_the_next_allowed_day():
    customer = consenting_customer()
    sent_before(customer, at=NOW - timedelta(days=1))
    message = queue_message(customer, now=NOW)
    assert send(message) == "not sent"
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    # Default policy: at most one message every 3 days.
    assert message.scheduled_for == NOW + timedelta(days=2)
    assert message.dispatched_at is None
    assert "frequency policy" in message.reason
    assert not mail.outbox
    assert send(message, now=NOW + timedelta(days=2)) == "sent"


def test_the_monthly_cap_counts_messages_across_rules():
    customer = consenting_customer()
    # Four messages, two days apart: the newest 4 days ago (gap rule satisfied).
    sent_before(customer, at=NOW - timedelta(days=4), count=4)
    message = queue_message(customer, now=NOW, stale_after=NOW + timedelta(days=30))
    assert send(message) == "not sent"
    message.refresh_from_db()
    oldest = NOW - timedelta(days=4 + 6)
    assert message.scheduled_for == oldest + timedelta(days=30)


def test_a_message_held_past_its_freshness_is_skipped_with_the_reason():
    customer = consenting_customer()
    sent_before(customer, at=NOW - timedelta(hours=1))
    message = queue_message(customer, now=NOW, stale_after=NOW + timedelta(days=2))
    send(message)
    message.refresh_from_db()
    assert message.status == Status.SKIPPED
    assert "stale" in message.reason


def test_a_stale_message_is_skipped():
    message = queue_message(
        consenting_customer(), now=NOW, stale_after=NOW - timedelta(minutes=1)
    )
    send(message)
    assert Message.objects.get().status == Status.SKIPPED
    assert "Stale" in Message.objects.get().reason


def test_quiet_hours_hold_a_message_until_morning():
    evening = NOW.replace(hour=21, minute=30)
    message = queue_message(consenting_customer(), now=evening)
    assert send(message, now=evening) == "not sent"
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.scheduled_for == (NOW + timedelta(days=1)).replace(hour=8)


def test_quiet_hours_follow_the_owner_s_policy():
    services.save_policy(
        min_days_between=3,
        max_per_30_days=4,
        quiet_start=timezone.datetime(2000, 1, 1, 12).time(),
        quiet_end=timezone.datetime(2000, 1, 1, 13).time(),
        attribution_days=7,
    )
    message = queue_message(consenting_customer(), now=NOW)
    send(message)
    message.refresh_from_db()
    assert message.scheduled_for == NOW.replace(hour=13)
    FrequencyPolicy.objects.update(quiet_start=NOW.time(), quiet_end=NOW.time())
    assert send(message, now=NOW.replace(hour=13)) == "sent"


def test_the_higher_priority_message_goes_first_and_the_other_waits():
    customer = consenting_customer()
    check_in = queue_message(customer, now=NOW, priority=80)
    birthday = queue_message(
        customer, now=NOW, priority=10, rule=make_rule(Trigger.BIRTHDAY)
    )
    assert send(check_in) == "not sent"  # the birthday note is due too
    assert send(birthday) == "sent"
    check_in.refresh_from_db()
    assert check_in.status == Status.QUEUED
    assert check_in.scheduled_for == NOW + timedelta(minutes=1)
    send(check_in, now=NOW + timedelta(minutes=1))
    check_in.refresh_from_db()
    assert check_in.scheduled_for == NOW + timedelta(days=3)  # then the cap holds it


def test_a_check_in_is_skipped_if_the_customer_was_contacted_since():
    customer = consenting_customer(created_at=NOW - timedelta(days=100))
    message = queue_message(customer, now=NOW, occurrence_at=customer.created_at)
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=NOW)
    send(message)
    message.refresh_from_db()
    assert message.status == Status.SKIPPED
    assert "contacted" in message.reason


def test_a_switched_off_rule_s_messages_are_skipped():
    message = queue_message(consenting_customer(), now=NOW)
    message.rule.active = False
    message.rule.save()
    send(message)
    assert Message.objects.get().reason == "Its rule was switched off."


def test_a_transient_error_retries_later_with_backoff(settings):
    settings.EMAIL_BACKEND = "communications.tests.backends.DisconnectingBackend"
    message = queue_message(consenting_customer(), now=NOW)
    assert send(message) == "retry"
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.attempts == 1
    assert NOW + timedelta(seconds=30) <= message.scheduled_for
    assert message.scheduled_for <= NOW + timedelta(seconds=60)
    assert "Connection unexpectedly closed" in message.reason
    assert message.counted_at is None  # a failed attempt does not use up a slot


def test_transient_errors_give_up_after_the_limit_and_show_the_error(settings):
    settings.EMAIL_BACKEND = "communications.tests.backends.DisconnectingBackend"
    settings.COMMUNICATIONS_MAX_ATTEMPTS = 3
    message = queue_message(consenting_customer(), now=NOW)
    moment = NOW
    outcomes = []
    for _ in range(3):
        outcomes.append(send(message, now=moment))
        message.refresh_from_db()
        moment = message.scheduled_for
    assert outcomes == ["retry", "retry", "failed"]
    assert message.status == Status.FAILED
    assert message.reason.startswith("Gave up after 3 attempts")
    assert "Connection unexpectedly closed" in message.reason


def test_backoff_grows_exponentially_with_jitter():
    for attempt, base in [(1, 60), (2, 120), (3, 240), (10, 6 * 3600)]:
        delays = {retry_delay(attempt).total_seconds() for _ in range(20)}
        assert all(base / 2 <= delay <= base for delay in delays)
        assert len(delays) > 1  # jitter


def test_a_permanent_error_fails_at_once(settings):
    settings.EMAIL_BACKEND = "communications.tests.backends.RefusingBackend"
    message = queue_message(consenting_customer(), now=NOW)
    assert send(message) == "failed"
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert "No such user" in message.reason
    assert message.attempts == 1


def test_a_chunk_goes_on_after_one_message_fails(no_quiet_hours):
    # send_chunk runs on the real clock, as a worker does.
    now = timezone.now() - timedelta(minutes=1)
    ok = queue_message(consenting_customer(), now=now)
    gone = queue_message(consenting_customer(), now=now)
    opted_out = queue_message(consenting_customer(email_opt_in=False), now=now)
    gone_id = gone.pk
    gone.delete()
    outcomes = send_chunk([gone_id, opted_out.pk, ok.pk])
    assert outcomes == {"not claimed": 1, "not sent": 1, "sent": 1}


@pytest.mark.django_db(transaction=True)
def test_two_workers_cannot_both_use_the_last_slot(no_quiet_hours):
    customer = consenting_customer()
    now = timezone.now() - timedelta(minutes=1)
    # Two rules, each with a message due for the customer, sent by two threads
    # at the same moment (each its own database connection, as two workers).
    first = queue_message(customer, now=now)
    second = queue_message(customer, now=now, priority=first.priority)
    barrier = threading.Barrier(2)
    results = {}

    def worker(message_id):
        try:
            barrier.wait()
            results[message_id] = send_message(message_id, Delivery())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(m.pk,)) for m in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == ["not sent", "sent"]
    statuses = sorted(Message.objects.values_list("status", flat=True))
    assert statuses == [Status.QUEUED, Status.SENT]
    assert Interaction.objects.filter(customer=customer).count() == 1


def test_sending_a_message_takes_a_fixed_number_of_queries(
    django_assert_num_queries,
):
    message = queue_message(consenting_customer(), now=NOW)
    policy = FrequencyPolicy.current()
    # claim (1); check: message, customer lock, priority, cap count, membership,
    # store the text (6, in BEGIN/COMMIT); record: mark sent, then
    # log_interaction's savepoint, customer lock, insert, update, release (6,
    # in BEGIN/COMMIT): 17.
    with django_assert_num_queries(17):
        assert send_message(message.pk, Delivery(), now=NOW, policy=policy) == "sent"
