"""Purchases, interactions and feedback of one customer, through the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import Feedback, Interaction, Purchase
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def purchases(customer) -> str:
    return reverse("api:customer-purchase-list", args=[customer.pk])


def interactions(customer) -> str:
    return reverse("api:customer-interaction-list", args=[customer.pk])


def feedback(customer) -> str:
    return reverse("api:customer-feedback-list", args=[customer.pk])


def test_a_purchase_updates_the_running_figures(staff_api, customer, staff_user):
    earlier = timezone.now() - timedelta(days=10)
    first = staff_api.post(
        purchases(customer),
        {"amount": "40.00", "occurred_at": earlier.isoformat(), "reference": "A-1"},
        format="json",
    )
    second = staff_api.post(purchases(customer), {"amount": "2.50"}, format="json")
    assert first.status_code == second.status_code == 201
    customer.refresh_from_db()
    assert customer.orders_count == 2
    assert customer.total_spent == Decimal("42.50")
    assert customer.first_purchase_at == earlier
    assert customer.last_purchase_at > earlier
    stored = Purchase.objects.get(reference="A-1")
    assert (stored.by, stored.currency) == (staff_user, "EUR")
    assert first.json()["amount"] == "40.00"
    figures = staff_api.get(reverse("api:customer-detail", args=[customer.pk])).json()
    assert (figures["orders_count"], figures["total_spent"]) == (2, "42.50")


def test_a_known_order_reference_is_stored_once(staff_api, customer):
    body = {"amount": "40.00", "reference": "A-1"}
    first = staff_api.post(purchases(customer), body, format="json")
    again = staff_api.post(purchases(customer), body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    customer.refresh_from_db()
    assert customer.orders_count == 1


def test_a_reference_of_another_purchase_is_a_conflict(staff_api, customer):
    staff_api.post(
        purchases(customer), {"amount": "40.00", "reference": "A-1"}, format="json"
    )
    response = staff_api.post(
        purchases(customer), {"amount": "41.00", "reference": "A-1"}, format="json"
    )
    assert response.status_code == 409
    assert "reference" in response.json()
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": "12345678901.00"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": 12.5, "currency": "EURO"}, "currency"),
        ({}, "amount"),
        ({"amount": "1.00", "occurred_at": "yesterday"}, "occurred_at"),
    ],
)
def test_bad_purchases_are_400_beside_the_field(staff_api, customer, body, field):
    response = staff_api.post(purchases(customer), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Purchase.objects.exists()


def test_a_purchase_in_the_future_is_refused(staff_api, customer):
    future = (timezone.now() + timedelta(days=2)).isoformat()
    response = staff_api.post(
        purchases(customer), {"amount": "1.00", "occurred_at": future}, format="json"
    )
    assert response.status_code == 400
    assert "occurred_at" in response.json()
    customer.refresh_from_db()
    assert customer.orders_count == 0


def test_purchases_of_one_customer_newest_first(staff_api, customer):
    other = CustomerFactory()
    now = timezone.now()
    for days, who in [(3, customer), (1, customer), (2, other)]:
        services.record_purchase(
            customer=who, amount="5.00", occurred_at=now - timedelta(days=days)
        )
    body = staff_api.get(purchases(customer)).json()
    assert body["count"] == 2
    dates = [row["occurred_at"] for row in body["results"]]
    assert dates == sorted(dates, reverse=True)
    assert {row["customer"] for row in body["results"]} == {customer.pk}


def test_history_of_an_unknown_customer_is_404(staff_api):
    for url in [
        "/api/v1/customers/999999/purchases/",
        "/api/v1/customers/999999/interactions/",
    ]:
        assert staff_api.get(url).status_code == 404
    response = staff_api.post(
        "/api/v1/customers/999999/feedback/",
        {"kind": "csat", "score": 4},
        format="json",
    )
    assert response.status_code == 404


def test_an_interaction_goes_on_the_timeline_and_counts_as_contact(
    staff_api, customer, staff_user
):
    response = staff_api.post(
        interactions(customer),
        {"kind": "call", "direction": "inbound", "subject": "Asked about sizes"},
        format="json",
    )
    assert response.status_code == 201
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.by) == (customer, staff_user)
    customer.refresh_from_db()
    assert customer.last_contact_at == interaction.occurred_at
    listed = staff_api.get(interactions(customer)).json()["results"]
    assert [row["subject"] for row in listed] == ["Asked about sizes"]


def test_an_interaction_needs_a_kind_and_some_text(staff_api, customer):
    response = staff_api.post(interactions(customer), {"kind": "call"}, format="json")
    assert response.status_code == 400
    assert "subject" in response.json()
    response = staff_api.post(interactions(customer), {"subject": "Hi"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()
    response = staff_api.post(
        interactions(customer), {"kind": "fax", "subject": "Hi"}, format="json"
    )
    assert response.status_code == 400
    assert "kind" in response.json()
    assert not Interaction.objects.exists()


def test_feedback_is_recorded_with_its_range_checked(staff_api, customer, staff_user):
    ok = staff_api.post(
        feedback(customer),
        {"kind": "nps", "score": 9, "comment": "Great"},
        format="json",
    )
    assert ok.status_code == 201
    stored = Feedback.objects.get()
    assert (stored.customer, stored.score, stored.by) == (customer, 9, staff_user)
    too_high = staff_api.post(
        feedback(customer), {"kind": "csat", "score": 9}, format="json"
    )
    assert too_high.status_code == 400
    assert "score" in too_high.json()
    assert Feedback.objects.count() == 1


def test_feedback_cannot_be_listed(staff_api, customer):
    assert staff_api.get(feedback(customer)).status_code == 405
