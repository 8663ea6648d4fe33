"""Messages in the data download, and erasure that keeps statuses and dates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communications.delivery import Delivery
from communications.models import Message, Status
from communications.sender import send_message
from customers.data_rights import customer_data
from customers.services import merge_customers
from customers.wiring import personal_data

from .helpers import consenting_customer, queue_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(no_quiet_hours):
    customer = consenting_customer(first_name="Greta")
    message = queue_message(customer, now=timezone.now() - timedelta(minutes=1))
    send_message(message.pk, Delivery())
    message.refresh_from_db()
    return message


def test_messages_are_part_of_the_data_download(sent):
    exported = customer_data(sent.customer)["messages"]
    assert len(exported) == 1
    assert exported[0]["status"] == "sent"
    assert exported[0]["to"] == sent.customer.email
    assert "Greta" in exported[0]["subject"]


def test_erasure_wipes_addresses_and_texts_but_keeps_status_and_dates(sent):
    (messages,) = [entry for entry in personal_data() if entry.name == "messages"]
    messages.erase(sent.customer)
    message = Message.objects.get(pk=sent.pk)
    assert (message.to_address, message.subject, message.body_text) == ("", "", "")
    assert message.provider_id == ""
    assert message.status == Status.SENT
    assert message.sent_at == sent.sent_at


def test_a_merged_customer_s_messages_move_to_the_kept_one(sent):
    kept = consenting_customer()
    merge_customers(keep=kept, merge=sent.customer)
    assert Message.objects.get(pk=sent.pk).customer_id == kept.pk
