"""E-mail through a provider (django-anymail): the provider's id stored at send,
its signed tracking webhooks (a forged post refused, a replay changing nothing),
bounces and complaints as opt-outs, and reconciliation from its events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communications.delivery import Delivery, idempotency_key
from communications.models import Message, ProviderEvent, Status
from communications.sender import check_and_render, claim, send_message
from communications.sweeper import sweep
from customers import services as customer_services
from customers.models import ConsentChange, Customer, Interaction

from .helpers import NOW, consenting_customer, queue_message

# Sends on the real clock: without this they fail in the default quiet hours.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_quiet_hours")]

TEST_BACKEND = "anymail.backends.test.EmailBackend"
MAILGUN_KEY = "key-mailgun-webhook-signing"
BASIC_AUTH = "crm-hooks:s3cret-passphrase"


@pytest.fixture
def anymail(settings):
    settings.EMAIL_BACKEND = TEST_BACKEND
    settings.ANYMAIL = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "WEBHOOK_SECRET": BASIC_AUTH,
    }
    return settings


def sent_message(**customer_fields) -> Message:
    """A message sent through anymail's test backend."""
    customer = consenting_customer(**customer_fields)
    message = queue_message(customer, now=NOW)
    assert send_message(message.pk, Delivery(), now=NOW) == "sent"
    message.refresh_from_db()
    return message


def mailgun_post(event_data: dict, *, key: str = MAILGUN_KEY, token: str = ""):
    """Posted as Mailgun posts it: HMAC-SHA256 of timestamp + token."""
    timestamp, token = str(int(time.time())), token or secrets.token_hex(25)
    signature = hmac.new(
        key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    body = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event_data,
    }
    return Client().post(
        reverse("webhooks:anymail:mailgun_tracking_webhook"),
        data=json.dumps(body),
        content_type="application/json",
        **basic_auth(BASIC_AUTH),  # the URL's user:password, when a secret is set
    )


def mailgun_event(message: Message, event: str, **fields) -> dict:
    return {
        "event": event,
        "id": secrets.token_hex(8),
        "timestamp": time.time() - 60,
        "recipient": message.to_address,
        "message": {"headers": {"message-id": "20240615.abc@mg.example.com"}},
        "user-variables": {"crm_message": idempotency_key(message)},
        **fields,
    }


def basic_auth(credentials: str) -> dict:
    token = base64.b64encode(credentials.encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def state(customer: Customer) -> tuple:
    """What a webhook could change about a customer, to compare before/after."""
    customer.refresh_from_db()
    return (
        customer.email_opt_in,
        ConsentChange.objects.filter(customer=customer).count(),
        Interaction.objects.filter(customer=customer).count(),
        list(Message.objects.filter(customer=customer).values()),
        ProviderEvent.objects.count(),
    )


def test_sending_stores_the_providers_id_and_passes_the_message_key(anymail):
    message = sent_message()
    email = mail.outbox[0]
    # The test backend's id for the first message is 0: still the provider's id.
    assert message.provider_id == str(email.anymail_status.message_id) == "0"
    assert email.anymail_test_params["metadata"] == {
        "crm_message": idempotency_key(message)
    }


def test_a_signed_mailgun_bounce_opts_the_customer_out_with_a_note(anymail):
    message = sent_message()
    contact_before = Customer.objects.get(pk=message.customer_id).last_contact_at
    failed = mailgun_event(
        message,
        "failed",
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"description": "No such mailbox", "code": 550}},
    )
    assert mailgun_post(failed).status_code == 200
    customer = Customer.objects.get(pk=message.customer_id)
    assert customer.email_opt_in is False
    change = ConsentChange.objects.get(customer=customer, opted_in=False)
    assert change.channel == "email" and change.source == "bounced: Mailgun"
    note = Interaction.objects.get(customer=customer, kind=Interaction.Kind.NOTE)
    assert note.direction == Interaction.Direction.INTERNAL
    assert "bounced (Mailgun): opted out of Email" in note.subject
    assert "No such mailbox" in note.body
    # A provider's event is not contact with the customer.
    assert customer.last_contact_at == contact_before
    assert customer.last_automated_at == message.sent_at
    message.refresh_from_db()
    assert message.provider_status == "bounced"


def test_a_forged_mailgun_post_is_refused_and_changes_nothing(anymail):
    message = sent_message()
    customer = message.customer
    before = state(customer)
    complaint = mailgun_event(message, "complained")
    assert mailgun_post(complaint, key="not-the-key").status_code == 400
    assert state(customer) == before
    assert customer.email_opt_in is True


def test_a_replayed_mailgun_post_changes_nothing(anymail):
    message = sent_message()
    customer = message.customer
    complaint = mailgun_event(message, "complained")
    token = secrets.token_hex(25)
    assert mailgun_post(complaint, token=token).status_code == 200
    # The customer opts in again; a replay of the old complaint must not undo it.
    customer_services.update_customer(
        customer=Customer.objects.get(pk=customer.pk),
        email_opt_in=True,
        consent_source="staff",
    )
    before = state(customer)
    assert mailgun_post(complaint, token=token).status_code == 200
    assert state(customer) == before
    assert customer.email_opt_in is True


def test_delivered_opened_and_clicked_update_the_message(anymail):
    message = sent_message()
    at = {}
    for event in ("delivered", "opened", "clicked"):
        data = mailgun_event(message, event)
        at[event] = data["timestamp"]
        assert mailgun_post(data).status_code == 200
    message.refresh_from_db()
    assert message.delivered_at.timestamp() == pytest.approx(at["delivered"])
    assert message.opened_at.timestamp() == pytest.approx(at["opened"])
    assert message.clicked_at.timestamp() == pytest.approx(at["clicked"])
    assert message.provider_status == "delivered"  # engagement is not delivery
    assert message.customer.email_opt_in is True
    assert not Interaction.objects.filter(kind=Interaction.Kind.NOTE).exists()


def postmark_post(payload: dict, auth: str | None = BASIC_AUTH):
    headers = basic_auth(auth) if auth else {}
    return Client().post(
        reverse("webhooks:anymail:postmark_tracking_webhook"),
        data=json.dumps(payload),
        content_type="application/json",
        **headers,
    )


def postmark_delivery(message: Message) -> dict:
    return {
        "RecordType": "Delivery",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": message.to_address,
        "DeliveredAt": "2024-06-15T12:01:00Z",
        "Details": "Test delivery webhook details",
        "Metadata": {"crm_message": idempotency_key(message)},
        "ServerID": 23,
    }


def test_postmark_with_basic_auth_marks_the_message_delivered(anymail):
    message = sent_message()
    assert postmark_post(postmark_delivery(message)).status_code == 200
    message.refresh_from_db()
    assert message.delivered_at.isoformat() == "2024-06-15T12:01:00+00:00"


def test_postmark_with_the_wrong_password_is_refused(anymail):
    message = sent_message()
    before = state(message.customer)
    response = postmark_post(postmark_delivery(message), auth="crm-hooks:guess")
    assert response.status_code == 400
    assert postmark_post(postmark_delivery(message), auth=None).status_code == 400
    assert state(message.customer) == before


def test_a_basic_auth_webhook_is_off_while_no_secret_is_set(anymail):
    anymail.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    message = sent_message()
    before = state(message.customer)
    # Anymail alone would accept anyone's post to an unsecured webhook.
    assert postmark_post(postmark_delivery(message), auth=None).status_code == 403
    assert state(message.customer) == before


def sendgrid_post(events: list[dict], auth: str = BASIC_AUTH):
    return Client().post(
        reverse("webhooks:anymail:sendgrid_tracking_webhook"),
        data=json.dumps(events),
        content_type="application/json",
        **basic_auth(auth),
    )


# Anymail 15 warns that SendGrid is no longer officially supported; it still works.
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
def test_a_sendgrid_spam_report_opts_out_and_an_open_is_recorded(anymail):
    message = sent_message()
    common = {
        "email": message.to_address,
        "timestamp": int(time.time()) - 30,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        # SendGrid returns a message's custom_args (anymail's metadata) as is.
        "crm_message": idempotency_key(message),
    }
    events = [
        {**common, "event": "open", "sg_event_id": "sg-open-1"},
        {**common, "event": "spamreport", "sg_event_id": "sg-spam-1"},
    ]
    assert sendgrid_post(events, auth="crm-hooks:wrong").status_code == 400
    assert Customer.objects.get(pk=message.customer_id).email_opt_in is True
    assert sendgrid_post(events).status_code == 200
    assert sendgrid_post(events).status_code == 200  # SendGrid retries
    customer = Customer.objects.get(pk=message.customer_id)
    assert customer.email_opt_in is False
    assert ConsentChange.objects.get(customer=customer).source == (
        "complained: SendGrid"
    )
    assert Interaction.objects.filter(kind=Interaction.Kind.NOTE).count() == 1
    message.refresh_from_db()
    assert message.opened_at is not None


def test_a_bounce_for_an_address_without_a_message_still_opts_out(anymail):
    customer = consenting_customer(email="Ada@Example.com")
    event = {
        "event": "failed",
        "severity": "permanent",
        "timestamp": time.time(),
        "recipient": "ada@example.com",
        "message": {"headers": {"message-id": "sent-elsewhere@mg.example.com"}},
    }
    assert mailgun_post(event).status_code == 200
    customer.refresh_from_db()
    assert customer.email_opt_in is False
    assert ProviderEvent.objects.get().customer_id == customer.pk


def crashed_after_the_provider_took_it(settings) -> Message:
    """Delivered through the provider, then the worker died before recording."""
    settings.EMAIL_BACKEND = TEST_BACKEND
    customer = consenting_customer()
    message = queue_message(customer, now=timezone.now())
    now = timezone.now()
    assert claim(message.pk, now)
    Delivery().send(check_and_render(message.pk, now), "http://x/unsubscribe/t/")
    Message.objects.filter(pk=message.pk).update(claimed_at=now - timedelta(hours=1))
    # A real provider keeps no outbox the sweeper could read.
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    return message


def test_reconcile_resolves_as_sent_when_the_providers_event_arrives(anymail):
    message = crashed_after_the_provider_took_it(anymail)
    metadata = mail.outbox[0].anymail_test_params["metadata"]
    result = sweep(sending_after=timedelta(minutes=10))
    assert result.unknown == 1
    assert Message.objects.get(pk=message.pk).status == Status.RECONCILE
    event = {**mailgun_event(message, "delivered"), "user-variables": metadata}
    assert mailgun_post(event).status_code == 200
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.provider_id == "<20240615.abc@mg.example.com>"
    assert message.customer.interactions.filter(kind="email").count() == 1


def test_the_sweeper_finds_a_crashed_message_sent_from_a_stored_event(anymail):
    message = crashed_after_the_provider_took_it(anymail)
    Message.objects.filter(pk=message.pk).update(status=Status.RECONCILE)
    # The event came in while the message still said "sending".
    assert mailgun_post(mailgun_event(message, "delivered")).status_code == 200
    assert Message.objects.get(pk=message.pk).status == Status.SENT
    # And one stored for a message in "sending" is read by the sweeper.
    second = crashed_after_the_provider_took_it(anymail)
    Message.objects.filter(pk=second.pk).update(status=Status.SENDING)
    assert mailgun_post(mailgun_event(second, "opened")).status_code == 200
    assert Message.objects.get(pk=second.pk).status == Status.SENDING
    result = sweep(sending_after=timedelta(minutes=10))
    assert (result.to_reconcile, result.found_sent, result.unknown) == (1, 1, 0)
    second.refresh_from_db()
    assert second.status == Status.SENT
    assert second.provider_id == "<20240615.abc@mg.example.com>"


def test_a_provider_refusal_fails_a_message_to_reconcile(anymail):
    message = crashed_after_the_provider_took_it(anymail)
    Message.objects.filter(pk=message.pk).update(status=Status.RECONCILE)
    rejected = mailgun_event(
        message, "rejected", reject={"reason": "Sandbox: recipient not authorised"}
    )
    assert mailgun_post(rejected).status_code == 200
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert "Mailgun refused it" in message.reason
    assert "not authorised" in message.reason


def ses_post(message: Message, bounce_type: str, sns_id: str):
    """An Amazon SNS notification of an SES event, with the URL's basic auth."""
    ses_event = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": message.to_address, "diagnosticCode": "smtp; 550"}
            ],
            "timestamp": "2024-06-15T12:05:00.000Z",
        },
        "mail": {
            "timestamp": "2024-06-15T12:00:00.000Z",
            "messageId": "0100018f1f3e-ses-id",
            "destination": [message.to_address],
            "headers": [
                {
                    "name": "X-Metadata",
                    "value": json.dumps({"crm_message": idempotency_key(message)}),
                }
            ],
        },
    }
    notification = {
        "Type": "Notification",
        "MessageId": sns_id,
        "TopicArn": "arn:aws:sns:eu-west-1:111122223333:ses-events",
        "Message": json.dumps(ses_event),
        "Timestamp": "2024-06-15T12:05:01.000Z",
    }
    return Client().post(
        reverse("webhooks:anymail:amazon_ses_tracking_webhook"),
        data=json.dumps(notification),
        content_type="text/plain; charset=UTF-8",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
        HTTP_X_AMZ_SNS_MESSAGE_ID=sns_id,
        **basic_auth(BASIC_AUTH),
    )


def test_ses_opts_out_on_a_permanent_bounce_not_a_transient_one(anymail):
    message = sent_message()
    assert ses_post(message, "Transient", "sns-1").status_code == 200
    customer = Customer.objects.get(pk=message.customer_id)
    assert customer.email_opt_in is True  # a full mailbox passes
    assert Message.objects.get(pk=message.pk).provider_status == "deferred"
    assert ses_post(message, "Permanent", "sns-2").status_code == 200
    customer.refresh_from_db()
    assert customer.email_opt_in is False
    assert ConsentChange.objects.get(customer=customer).source == (
        "bounced: Amazon SES"
    )
