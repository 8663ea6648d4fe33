"""The dispatcher hands out due messages once, in chunks, after commit; the
sweeper recovers what lost tasks and dead workers leave behind."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from communications import services
from communications.delivery import Delivery
from communications.dispatcher import dispatch_due
from communications.models import Message, Status
from communications.sender import check_and_render, claim
from communications.sweeper import sweep

from .helpers import consenting_customer, make_rule, queue_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def due_messages(no_quiet_hours):
    now = timezone.now() - timedelta(minutes=1)
    rule = make_rule("check_in", 30)
    return [queue_message(consenting_customer(), now=now, rule=rule) for _ in range(7)]


def test_due_messages_are_queued_in_chunks_after_commit(
    due_messages, django_capture_on_commit_callbacks
):
    later = queue_message(
        consenting_customer(), now=timezone.now() + timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        assert dispatch_due(chunk_size=3) == 7
    assert len(callbacks) == 3  # 3 + 3 + 1
    dispatched = Message.objects.filter(dispatched_at__isnull=False)
    assert set(dispatched.values_list("pk", flat=True)) == {m.pk for m in due_messages}
    later.refresh_from_db()
    assert later.dispatched_at is None
    # Handed out once: a second run finds nothing new.
    with django_capture_on_commit_callbacks() as callbacks:
        assert dispatch_due(chunk_size=3) == 0
    assert callbacks == []


def test_the_most_urgent_messages_are_handed_out_first(
    due_messages, django_capture_on_commit_callbacks
):
    urgent = queue_message(
        consenting_customer(), now=timezone.now() - timedelta(minutes=1), priority=1
    )
    with django_capture_on_commit_callbacks():
        assert dispatch_due(limit=1) == 1
    urgent.refresh_from_db()
    assert urgent.dispatched_at is not None


def test_lost_tasks_are_handed_out_again_by_the_sweeper(
    due_messages, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        dispatch_due()
    # The tasks were lost (Redis restarted): nothing claimed them.
    assert sweep(requeue_after=timedelta(minutes=10)).requeued == 0  # not yet
    result = sweep(
        now=timezone.now() + timedelta(minutes=11),
        requeue_after=timedelta(minutes=10),
    )
    assert result.requeued == 7
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert dispatch_due() == 7
    assert len(callbacks) == 1


def stuck_in_sending(message, *, delivered: bool):
    """What a worker killed mid-send leaves: claimed, maybe delivered, unrecorded."""
    now = timezone.now()
    assert claim(message.pk, now)
    ready = check_and_render(message.pk, now)
    if delivered:
        Delivery().send(ready, "http://example.com/unsubscribe/x/")
    Message.objects.filter(pk=message.pk).update(claimed_at=now - timedelta(minutes=30))


def test_a_message_delivered_before_its_worker_died_is_recorded_not_resent(
    due_messages,
):
    message = due_messages[0]
    stuck_in_sending(message, delivered=True)
    result = sweep(sending_after=timedelta(minutes=10))
    assert (result.to_reconcile, result.found_sent) == (1, 1)
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.provider_id == mail.outbox[0].extra_headers["Message-ID"]
    assert message.customer.interactions.count() == 1
    assert len(mail.outbox) == 1


def test_a_message_not_delivered_before_its_worker_died_is_queued_again(
    due_messages,
):
    message = due_messages[0]
    stuck_in_sending(message, delivered=False)
    result = sweep(sending_after=timedelta(minutes=10))
    assert (result.to_reconcile, result.found_unsent) == (1, 1)
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.dispatched_at is None and message.counted_at is None
    assert not mail.outbox


def test_a_message_in_sending_is_left_alone_while_its_worker_may_be_alive(
    due_messages,
):
    message = due_messages[0]
    assert claim(message.pk, timezone.now())
    assert sweep(sending_after=timedelta(minutes=10)).to_reconcile == 0
    message.refresh_from_db()
    assert message.status == Status.SENDING


def test_when_the_provider_cannot_tell_an_owner_decides(due_messages, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    message = due_messages[0]
    stuck_in_sending(message, delivered=True)
    result = sweep(sending_after=timedelta(minutes=10))
    assert result.unknown == 1
    message.refresh_from_db()
    assert message.status == Status.RECONCILE
    assert "mark it sent or send it again" in message.reason
    # Sweeping again does not resend it.
    sweep(sending_after=timedelta(minutes=10))
    assert Message.objects.get(pk=message.pk).status == Status.RECONCILE
    services.send_again(message=message)
    message.refresh_from_db()
    assert message.status == Status.QUEUED
