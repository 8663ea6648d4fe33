"""Opt-outs survive a merge: links sent to a merged-away customer reach the kept
one (through chains of merges too), a STOP from a number the merge did not keep
still lands, and a merge keeps the stricter consent of the two, saying why."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communications.models import Message
from communications.unsubscribe import make_token
from customers import services
from customers.models import ConsentChange, Customer, MergedCustomer
from customers.tests.factories import CustomerFactory

from .helpers import NOW, consenting_customer, queue_message
from .test_sms_twilio import inbound, twilio, twilio_post  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def link(customer_id: int, channel: str = "email") -> str:
    token = make_token(customer_id=customer_id, channel=channel, message_id=None)
    return reverse("unsubscribe", args=[token])


def test_an_unsubscribe_link_of_a_merged_away_customer_opts_out_the_kept_one():
    kept = consenting_customer(email="", phone="")
    duplicate = consenting_customer(email="ann@example.com")
    old_link = link(duplicate.pk)
    services.merge_customers(keep=kept, merge=duplicate)
    kept.refresh_from_db()
    assert (kept.email, kept.email_opt_in) == ("ann@example.com", True)

    page = Client().get(old_link)
    assert page.status_code == 200
    assert b"Unsubscribe from our emails?" in page.content
    done = Client().post(old_link)

    assert done.status_code == 200
    assert b"You are unsubscribed" in done.content
    kept.refresh_from_db()
    assert kept.email_opt_in is False
    assert kept.sms_opt_in is True
    latest = ConsentChange.objects.filter(customer=kept).first()
    assert (latest.channel, latest.opted_in, latest.source) == (
        "email",
        False,
        "unsubscribe page",
    )


def test_a_link_reaches_the_last_kept_customer_through_a_chain_of_merges():
    first = consenting_customer()
    second = consenting_customer()
    third = consenting_customer()
    fourth = consenting_customer()
    links = [link(c.pk, "sms") for c in (first, second, third)]
    services.merge_customers(keep=second, merge=first)
    services.merge_customers(keep=third, merge=second)
    services.merge_customers(keep=fourth, merge=third)

    # Each old id is one lookup away from the record that holds them now.
    assert set(MergedCustomer.objects.values_list("merged_id", "kept_id")) == {
        (first.pk, fourth.pk),
        (second.pk, fourth.pk),
        (third.pk, fourth.pk),
    }
    response = Client().post(links[0])
    assert b"You are unsubscribed" in response.content
    fourth.refresh_from_db()
    assert fourth.sms_opt_in is False
    # The other links now find them out already, and say so.
    for old in links[1:]:
        assert b"there is nothing more to do" in Client().get(old).content


def test_a_link_for_a_customer_deleted_after_being_kept_is_gone():
    kept = consenting_customer()
    duplicate = consenting_customer()
    services.merge_customers(keep=kept, merge=duplicate)
    Customer.objects.filter(pk=kept.pk).delete()
    assert Client().get(link(duplicate.pk)).status_code == 404
    assert not MergedCustomer.objects.exists()


def test_a_stop_from_a_number_the_merge_did_not_keep_opts_the_kept_one_out(twilio):  # noqa: F811
    kept = consenting_customer(phone="+44 7700 900555")
    duplicate = consenting_customer(phone="07700 900123")
    message = queue_message(duplicate, now=NOW, channel="sms")
    Message.objects.filter(pk=message.pk).update(
        to_address="+447700900123", status="sent", sent_at=timezone.now()
    )
    services.merge_customers(keep=kept, merge=duplicate)
    kept.refresh_from_db()
    assert kept.phone == "+44 7700 900555"  # the kept record's own number stays

    response = twilio_post(reverse("webhooks:twilio-inbound"), inbound("STOP"))

    assert response.status_code == 200
    kept.refresh_from_db()
    assert kept.sms_opt_in is False
    assert kept.email_opt_in is True


IN, OUT, NEVER, NO_ADDRESS = "opted in", "opted out", "never asked", "no address"


def make(state: str, email: str) -> Customer:
    customer = CustomerFactory(email="" if state == NO_ADDRESS else email)
    if state == IN:
        services.update_customer(customer=customer, email_opt_in=True)
    elif state == OUT:
        services.update_customer(customer=customer, email_opt_in=True)
        services.update_customer(customer=customer, email_opt_in=False)
    customer.refresh_from_db()
    return customer


# The stricter of the two, written out case by case: consent stays only if every
# record that had an address or a recorded decision had consented.
STRICTER = {
    (IN, IN): True,
    (IN, OUT): False,
    (OUT, IN): False,
    (IN, NEVER): False,
    (NEVER, IN): False,
    (IN, NO_ADDRESS): True,
    (NO_ADDRESS, IN): True,
    (OUT, OUT): False,
    (OUT, NO_ADDRESS): False,
    (NO_ADDRESS, OUT): False,
    (NEVER, NEVER): False,
    (NO_ADDRESS, NO_ADDRESS): False,
}


@pytest.mark.parametrize(("kept_state", "merged_state"), sorted(STRICTER))
def test_a_merge_keeps_the_stricter_email_consent(kept_state, merged_state):
    kept = make(kept_state, "kept@example.com")
    merged = make(merged_state, "merged@example.com")
    merged_id = merged.pk

    result = services.merge_customers(keep=kept, merge=merged)

    assert result.email_opt_in is STRICTER[(kept_state, merged_state)]
    dropped = not result.email_opt_in and IN in (kept_state, merged_state)
    latest = ConsentChange.objects.filter(customer=result, channel="email").first()
    if dropped:
        # The history ends with why, naming the record that had not consented.
        assert latest.opted_in is False
        assert latest.source.startswith(f"merge with #{merged_id}: ")
        refuser = merged_state if merged_state in (OUT, NEVER) else kept_state
        assert latest.source.endswith(
            "had opted out" if refuser == OUT else "had not opted in"
        )
        who = f"customer #{merged_id}" if refuser == merged_state else "this customer"
        if kept_state != merged_state:
            assert who in latest.source
    elif latest is not None:
        assert not latest.source.startswith("merge")


def test_a_newer_opt_in_on_the_merged_record_does_not_undo_an_opt_out():
    kept = make(OUT, "kept@example.com")
    merged = make(OUT, "merged@example.com")
    services.update_customer(customer=merged, email_opt_in=True, consent_source="web")

    result = services.merge_customers(keep=kept, merge=merged)

    assert result.email_opt_in is False
    assert result.email_opt_in_source == "staff"  # the kept record's own opt-out
    assert not Customer.objects.opted_in("email").filter(pk=result.pk).exists()


def test_the_kept_customers_opt_in_ending_is_dated_and_explained():
    kept = make(IN, "kept@example.com")
    merged = make(OUT, "merged@example.com")
    before = timezone.now()

    result = services.merge_customers(keep=kept, merge=merged)

    assert result.email_opt_in is False
    assert result.email_opt_in_at >= before
    assert (
        result.email_opt_in_source
        == f"merge with #{merged.pk}: customer #{merged.pk} had opted out"
    )
