"""The public unsubscribe page: signed links, GET changes nothing, POST (and the
RFC 8058 one-click POST) opts out at once and records when and how."""

import pytest
from django.urls import reverse

from communications.unsubscribe import make_token, unsubscribe_url
from customers.models import ConsentChange, Customer

from .helpers import consenting_customer

pytestmark = pytest.mark.django_db


def url_for(customer, channel="email", message_id=7):
    token = make_token(customer_id=customer.pk, channel=channel, message_id=message_id)
    return reverse("unsubscribe", args=[token])


def test_the_link_is_absolute_and_at_the_site_root(settings):
    settings.SITE_URL = "https://crm.example.com/"
    customer = consenting_customer()
    link = unsubscribe_url(customer_id=customer.pk, channel="email")
    assert link.startswith("https://crm.example.com/unsubscribe/")


def test_get_shows_one_button_and_changes_nothing(client):
    customer = consenting_customer()
    response = client.get(url_for(customer))
    assert response.status_code == 200
    assert response.content.count(b'type="submit"') == 1
    assert b"Unsubscribe from our emails?" in response.content
    customer.refresh_from_db()
    assert customer.email_opt_in
    assert not ConsentChange.objects.exists()


def test_posting_the_page_unsubscribes_and_records_how(client):
    customer = consenting_customer()
    response = client.post(url_for(customer))
    assert response.status_code == 200
    assert b"You are unsubscribed" in response.content
    customer.refresh_from_db()
    assert not customer.email_opt_in
    assert customer.sms_opt_in  # only the channel of the link
    assert customer.email_opt_in_source == "unsubscribe page (message 7)"
    change = ConsentChange.objects.get()
    assert (change.channel, change.opted_in) == ("email", False)
    assert change.source == "unsubscribe page (message 7)"


def test_one_click_post_without_csrf_unsubscribes_at_once():
    from django.test import Client

    customer = consenting_customer()
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        url_for(customer, channel="sms"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert not customer.sms_opt_in
    assert customer.sms_opt_in_source == "one-click unsubscribe (message 7)"


def test_unsubscribing_twice_is_harmless(client):
    customer = consenting_customer()
    client.post(url_for(customer))
    response = client.post(url_for(customer))
    assert response.status_code == 200
    assert ConsentChange.objects.count() == 1
    assert b"You are unsubscribed" in client.get(url_for(customer)).content


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.replace(":", ":x", 1),
        lambda token: token[: len(token) // 2],
        lambda token: "not-a-token",
    ],
)
def test_a_forged_or_tampered_link_is_refused_and_changes_nothing(client, mangle):
    customer = consenting_customer()
    token = make_token(customer_id=customer.pk, channel="email", message_id=None)
    url = reverse("unsubscribe", args=[mangle(token)])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 400
        assert b"This link does not work" in response.content
    assert Customer.objects.get(pk=customer.pk).email_opt_in
    assert not ConsentChange.objects.exists()


def test_a_link_cannot_be_pointed_at_another_customer(client):
    # One customer's payload with another's signature: refused.
    victim = consenting_customer()
    other = consenting_customer()
    theirs = make_token(customer_id=other.pk, channel="email", message_id=None)
    wanted = make_token(customer_id=victim.pk, channel="email", message_id=None)
    forged = wanted.rsplit(":", 1)[0] + ":" + theirs.rsplit(":", 1)[1]
    assert forged != wanted
    response = client.post(reverse("unsubscribe", args=[forged]))
    assert response.status_code == 400
    assert Customer.objects.get(pk=victim.pk).email_opt_in
    assert Customer.objects.get(pk=other.pk).email_opt_in


def test_a_link_for_a_deleted_customer_says_so(client):
    customer = consenting_customer()
    url = url_for(customer)
    customer.delete()
    response = client.post(url)
    assert response.status_code == 404
    assert b"Nothing to unsubscribe" in response.content


def test_the_page_needs_no_login_and_shows_no_navigation(client):
    response = client.get(url_for(consenting_customer()))
    assert response.status_code == 200
    assert b"navbar" not in response.content
