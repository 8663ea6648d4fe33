"""Idempotency-Key: a retried POST never creates twice."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from crm.api.services import create_api_token
from crm.models import IdempotencyRecord
from crm.tests.conftest import bearer
from customers.models import Customer, Interaction, Purchase
from customers.signals import purchase_recorded
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api:customer-list")


def purchases(customer) -> str:
    return reverse("api:customer-purchase-list", args=[customer.pk])


def post(client, url, body, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, body, format="json", **headers, **extra)


def test_the_same_post_twice_with_one_key_creates_once(staff_api, customer):
    body = {"amount": "19.99", "channel": "web"}
    first = post(staff_api, purchases(customer), body, key="order-7")
    again = post(staff_api, purchases(customer), body, key="order-7")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Purchase.objects.count() == 1
    customer.refresh_from_db()
    assert customer.orders_count == 1  # the service ran once


def test_without_a_key_the_same_post_creates_twice(staff_api, customer):
    # Documented: the key is optional, and only a key makes a retry safe.
    body = {"kind": "note", "body": "Called back"}
    url = reverse("api:customer-interaction-list", args=[customer.pk])
    post(staff_api, url, body)
    post(staff_api, url, body)
    assert Interaction.objects.count() == 2


def test_the_same_key_with_another_body_is_refused(staff_api, customer):
    post(staff_api, purchases(customer), {"amount": "19.99"}, key="k1")
    response = post(staff_api, purchases(customer), {"amount": "20.00"}, key="k1")
    assert response.status_code == 422
    assert "different request" in response.json()["detail"]
    assert Purchase.objects.count() == 1


def test_the_same_key_on_another_url_is_refused(staff_api, customer):
    other = CustomerFactory()
    post(staff_api, purchases(customer), {"amount": "5.00"}, key="k1")
    response = post(staff_api, purchases(other), {"amount": "5.00"}, key="k1")
    assert response.status_code == 422
    assert not Purchase.objects.filter(customer=other).exists()


def test_key_order_and_spacing_of_the_json_do_not_matter(staff_api):
    one = '{"first_name": "Ada", "email": "ada@example.com"}'
    two = '{ "email":"ada@example.com","first_name":"Ada" }'
    for raw in (one, two):
        response = staff_api.generic(
            "POST", LIST, raw, content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="new-ada",
        )  # fmt: skip
        assert response.status_code == 201
    assert Customer.objects.filter(email="ada@example.com").count() == 1


def test_keys_belong_to_each_user(api_client, customer, staff_token, owner_token):
    body = {"kind": "csat", "score": 4}
    url = reverse("api:customer-feedback-list", args=[customer.pk])
    for secret in (staff_token, owner_token):
        response = post(api_client, url, body, key="same", **bearer(secret))
        assert response.status_code == 201
        assert not response.has_header("Idempotent-Replayed")
    assert customer.feedback.count() == 2


def test_a_failed_request_keeps_no_record_so_the_key_can_be_reused(staff_api, customer):
    bad = post(staff_api, purchases(customer), {"amount": "-5"}, key="k2")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = post(staff_api, purchases(customer), {"amount": "5.00"}, key="k2")
    assert good.status_code == 201
    assert Purchase.objects.count() == 1


def test_the_record_holds_a_fingerprint_and_the_response(
    staff_api, customer, staff_user
):
    response = post(staff_api, purchases(customer), {"amount": "5.00"}, key="k3")
    record = IdempotencyRecord.objects.get()
    assert (record.user, record.key, record.method) == (staff_user, "k3", "POST")
    assert record.token is not None and record.token.user == staff_user
    assert len(record.fingerprint) == 64
    assert (record.status_code, record.response_body) == (201, response.json())


@pytest.mark.parametrize(
    "key, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 256, "255"),
        ("clé-é", "ASCII"),
        ("tab\there", "ASCII"),
    ],
)
def test_a_malformed_key_is_400(staff_api, customer, key, message):
    response = post(staff_api, purchases(customer), {"amount": "5.00"}, key=key)
    assert response.status_code == 400
    assert message in response.json()["Idempotency-Key"][0]
    assert not Purchase.objects.exists()


def test_the_key_is_ignored_on_reads_and_updates(staff_api, customer):
    url = reverse("api:customer-detail", args=[customer.pk])
    for _ in range(2):
        response = staff_api.patch(
            url, {"notes": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k4"
        )
        assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_once(roles, staff_user):
    """Two threads, two database connections, one key: the second request's
    insert waits on the unique index until the first commits, then replays."""
    customer = CustomerFactory()
    secret = create_api_token(user=staff_user, name="Shop")[1]
    url = purchases(customer)
    body = json.dumps({"amount": "12.00", "reference": ""})
    first_inside = threading.Event()
    saw_second_wait = threading.Event()
    responses: dict[str, object] = {}

    def hold_first_until_second_waits(sender, purchase, **kwargs):
        # Runs inside the first request's transaction, after its insert.
        first_inside.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if second_is_waiting_on_a_lock():
                saw_second_wait.set()
                return
            time.sleep(0.05)

    def second_is_waiting_on_a_lock() -> bool:
        with connections["default"].cursor() as cursor:
            # Inside a transaction the statistics views are a snapshot; refresh it.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                "current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

    def call(name: str) -> None:
        try:
            responses[name] = Client().post(
                url,
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
                HTTP_IDEMPOTENCY_KEY="retry-me",
            )
        finally:
            connection.close()

    purchase_recorded.connect(hold_first_until_second_waits)
    try:
        first = threading.Thread(target=call, args=("first",))
        first.start()
        assert first_inside.wait(10)
        purchase_recorded.disconnect(hold_first_until_second_waits)
        second = threading.Thread(target=call, args=("second",))
        second.start()
        first.join(20)
        second.join(20)
    finally:
        purchase_recorded.disconnect(hold_first_until_second_waits)

    assert saw_second_wait.is_set()  # the requests did overlap
    assert responses["first"].status_code == 201
    assert responses["second"].status_code == 201
    assert responses["second"]["Idempotent-Replayed"] == "true"
    assert responses["second"].json() == responses["first"].json()
    assert Purchase.objects.count() == 1
    customer.refresh_from_db()
    assert customer.orders_count == 1
