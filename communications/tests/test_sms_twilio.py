"""SMS through Twilio's SDK (its HTTP layer faked at the edge): numbers in
E.164, errors classified, status callbacks and STOP replies verified by
Twilio's signature, each acted on once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from communications.delivery import Delivery, idempotency_key
from communications.models import Message, ProviderEvent, Status, Trigger
from communications.phones import InvalidPhoneNumber, to_e164
from communications.sender import check_and_render, claim, send_message
from communications.sweeper import sweep
from customers.models import ConsentChange, Customer, Interaction

from .backends import twilio_http
from .helpers import NOW, consenting_customer, make_rule, queue_message

# Sends on the real clock: without this they fail in the default quiet hours.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_quiet_hours")]

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-for-tests"
SITE = "https://crm.example.com"


@pytest.fixture
def twilio(settings):
    settings.SMS_BACKEND = "communications.tests.backends.TwilioOverFakeHttp"
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+441234567890"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.PHONE_REGION = "GB"
    settings.SITE_URL = SITE
    twilio_http.requests.clear()
    twilio_http.answers.clear()
    return settings


def sms_message(phone: str = "07700 900123", now=NOW) -> Message:
    customer = consenting_customer(phone=phone)
    rule = make_rule(Trigger.CHECK_IN, 30, channel="sms")
    return queue_message(customer, now=now, rule=rule, channel="sms")


def twilio_signature(url: str, params: dict, token: str = TOKEN) -> str:
    """As Twilio signs: HMAC-SHA1 of the URL then each name+value, names sorted."""
    text = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_post(path: str, params: dict, *, token: str = TOKEN):
    signature = twilio_signature(SITE + path, params, token)
    return Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def status_callback(message: Message, status: str, **extra) -> tuple[str, dict]:
    query = f"?message={idempotency_key(message)}"
    params = {
        "MessageSid": message.provider_id or "SM" + "9" * 32,
        "MessageStatus": status,
        "AccountSid": SID,
        "To": message.to_address or "+447700900123",
        "From": "+441234567890",
        "ApiVersion": "2010-04-01",
        **extra,
    }
    return reverse("webhooks:twilio-status") + query, params


def test_an_sms_goes_out_through_twilio_to_the_e164_number(twilio):
    message = sms_message("07700 900123")
    assert send_message(message.pk, Delivery(), now=NOW) == "sent"
    (call,) = twilio_http.requests
    assert call["method"] == "POST"
    assert call["uri"] == (
        f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    )
    assert call["auth"] == (SID, TOKEN)
    assert call["data"]["To"] == "+447700900123"
    assert call["data"]["From"] == "+441234567890"
    assert "/unsubscribe/" in call["data"]["Body"]
    callback = urlparse(call["data"]["StatusCallback"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == (
        SITE + "/webhooks/twilio/status/"
    )
    assert parse_qs(callback.query) == {"message": [idempotency_key(message)]}
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.to_address == "+447700900123"
    assert message.provider_id == "SM" + f"{1:032x}"


def test_a_messaging_service_sends_instead_of_a_number(twilio):
    twilio.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
    message = sms_message("+44 7700 900123")
    assert send_message(message.pk, Delivery(), now=NOW) == "sent"
    data = twilio_http.requests[0]["data"]
    assert data["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in data


@pytest.mark.parametrize(
    ("phone", "region", "why"),
    [
        ("not a number", "GB", "is not a phone number"),
        ("+44 12", "GB", "not a possible phone number"),
        ("07700 900123", "", "has no country code"),
    ],
)
def test_an_unusable_number_is_skipped_with_a_plain_reason(twilio, phone, region, why):
    twilio.PHONE_REGION = region
    message = sms_message(phone)
    assert send_message(message.pk, Delivery(), now=NOW) == "not sent"
    message.refresh_from_db()
    assert message.status == Status.SKIPPED
    assert why in message.reason
    assert twilio_http.requests == []


def test_twilio_refusing_the_number_fails_the_message(twilio):
    twilio_http.answers.append(
        (
            400,
            {
                "code": 21211,
                "message": "The 'To' number +447700900123 is not a valid phone number.",
                "more_info": "https://www.twilio.com/docs/errors/21211",
                "status": 400,
            },
        )
    )
    message = sms_message()
    assert send_message(message.pk, Delivery(), now=NOW) == "failed"
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert "21211" in message.reason and "not a valid phone number" in message.reason


@pytest.mark.parametrize(
    "answer",
    [
        (503, {"code": 20503, "message": "Service unavailable", "status": 503}),
        (429, {"code": 20429, "message": "Too many requests", "status": 429}),
        requests.ConnectionError("Connection refused"),
    ],
)
def test_twilio_busy_or_unreachable_is_retried(twilio, answer):
    twilio_http.answers.append(answer)
    message = sms_message()
    assert send_message(message.pk, Delivery(), now=NOW) == "retry"
    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.scheduled_for > NOW


def sent_sms(now=None) -> Message:
    message = sms_message(now=now or timezone.now())
    assert send_message(message.pk, Delivery()) == "sent"
    message.refresh_from_db()
    return message


def test_a_signed_status_callback_marks_the_sms_delivered_once(twilio):
    message = sent_sms()
    path, params = status_callback(message, "delivered")
    assert twilio_post(path, params).status_code == 200
    message.refresh_from_db()
    first = message.delivered_at
    assert first is not None and message.provider_status == "delivered"
    assert twilio_post(path, params).status_code == 200  # Twilio retries
    assert ProviderEvent.objects.filter(message=message).count() == 1
    message.refresh_from_db()
    assert message.delivered_at == first


def test_a_forged_status_callback_is_refused(twilio):
    message = sent_sms()
    path, params = status_callback(message, "undelivered", ErrorCode="30006")
    response = twilio_post(path, params, token="someone-elses-token")
    assert response.status_code == 403
    unsigned = Client().post(path, params)
    assert unsigned.status_code == 403
    # Signed for other parameters: the signature covers every one of them.
    signature = twilio_signature(SITE + path, {**params, "ErrorCode": "30003"})
    tampered = Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert tampered.status_code == 403
    assert not ProviderEvent.objects.exists()
    assert Customer.objects.get(pk=message.customer_id).sms_opt_in is True


def test_an_sms_to_a_landline_opts_the_number_out(twilio):
    message = sent_sms()
    path, params = status_callback(message, "undelivered", ErrorCode="30006")
    assert twilio_post(path, params).status_code == 200
    customer = Customer.objects.get(pk=message.customer_id)
    assert customer.sms_opt_in is False
    assert ConsentChange.objects.get(customer=customer).source == "bounced: Twilio"


def inbound(body: str, sender: str = "+447700900123", sid: str = "SMin1") -> dict:
    return {
        "MessageSid": sid,
        "AccountSid": SID,
        "From": sender,
        "To": "+441234567890",
        "Body": body,
        "NumMedia": "0",
    }


@pytest.mark.parametrize("reply", ["STOP", " stop ", "Unsubscribe", "STOPALL", "End."])
def test_a_stop_reply_opts_that_number_out_of_sms(twilio, reply):
    same = consenting_customer(phone="07700 900123")
    also = consenting_customer(phone="+44 (0)7700-900123".replace("(0)", ""))
    other = consenting_customer(phone="+44 7700 900999")
    path = reverse("webhooks:twilio-inbound")
    response = twilio_post(path, inbound(reply))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    for customer in (same, also):
        customer.refresh_from_db()
        assert customer.sms_opt_in is False
        assert customer.email_opt_in is True
        change = ConsentChange.objects.get(customer=customer)
        assert (change.channel, change.source) == ("sms", "unsubscribed: Twilio")
        note = Interaction.objects.get(customer=customer)
        assert note.kind == Interaction.Kind.NOTE
        assert reply.strip() in note.body
    other.refresh_from_db()
    assert other.sms_opt_in is True


def test_a_reply_that_is_not_stop_changes_nothing(twilio):
    customer = consenting_customer(phone="+447700900123")
    path = reverse("webhooks:twilio-inbound")
    assert twilio_post(path, inbound("Stop by the shop tomorrow?")).status_code == 200
    customer.refresh_from_db()
    assert customer.sms_opt_in is True
    assert not ProviderEvent.objects.exists()


def test_a_forged_or_replayed_stop_changes_nothing(twilio):
    customer = consenting_customer(phone="+447700900123")
    path = reverse("webhooks:twilio-inbound")
    assert twilio_post(path, inbound("STOP"), token="guess").status_code == 403
    customer.refresh_from_db()
    assert customer.sms_opt_in is True
    assert twilio_post(path, inbound("STOP")).status_code == 200
    Customer.objects.filter(pk=customer.pk).update(sms_opt_in=True)  # opted in again
    assert twilio_post(path, inbound("STOP")).status_code == 200  # the same SMS
    customer.refresh_from_db()
    assert customer.sms_opt_in is True
    assert ConsentChange.objects.filter(customer=customer).count() == 1


def test_a_crashed_sms_send_is_resolved_by_its_status_callback(twilio):
    message = sms_message(now=timezone.now())
    now = timezone.now()
    assert claim(message.pk, now)
    Delivery().send(check_and_render(message.pk, now), "http://x/u/")
    Message.objects.filter(pk=message.pk).update(claimed_at=now - timedelta(hours=1))
    result = sweep(sending_after=timedelta(minutes=10))
    assert result.unknown == 1  # Twilio's API cannot be asked by our key
    path, params = status_callback(message, "sent", MessageSid="SM" + "7" * 32)
    assert twilio_post(path, params).status_code == 200
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.provider_id == "SM" + "7" * 32
    assert len(twilio_http.requests) == 1  # never sent twice


E164 = re.compile(r"^\+[1-9]\d{1,14}$")


@given(st.text(max_size=40), st.sampled_from(["", "GB", "US", "DE"]))
def test_any_text_is_e164_or_refused_plainly(text, region):
    try:
        number = to_e164(text, region)
    except InvalidPhoneNumber as error:
        assert str(error)
    else:
        assert E164.match(number)
        assert to_e164(number, "") == number  # E.164 reads the same anywhere
