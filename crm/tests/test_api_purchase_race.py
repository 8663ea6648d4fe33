"""Two requests racing with one order number: the answer says which stored it.

Without an Idempotency-Key, a shop retrying a purchase it posted a moment ago
must hear 201 from the request that stored it and 200 from the other. Asking
"is the reference known?" before recording answered 201 to both when the
second asked before the first committed; record_purchase now says whether it
stored the purchase, decided under the customer's lock.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from crm.api.services import create_api_token
from customers.models import Purchase
from customers.signals import purchase_recorded
from customers.tests.factories import CustomerFactory


def waiting_on_a_lock() -> int:
    with connections["default"].cursor() as cursor:
        # Inside a transaction the statistics views are a snapshot; refresh it.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            "current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_reference_answer_201_then_200(roles, staff_user):
    customer = CustomerFactory()
    secret = create_api_token(user=staff_user, name="Shop")[1]
    url = reverse("api:customer-purchase-list", args=[customer.pk])
    body = json.dumps({"amount": "12.00", "reference": "ORD-77"})
    first_inside = threading.Event()
    saw_second_wait = threading.Event()
    responses: dict[str, object] = {}

    def hold_first_until_second_waits(sender, purchase, **kwargs):
        # Inside the first request's transaction, after its insert: the second
        # request gets as far as the customer's lock.
        first_inside.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if waiting_on_a_lock():
                saw_second_wait.set()
                return
            time.sleep(0.05)

    def call(name: str) -> None:
        try:
            responses[name] = Client().post(
                url,
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
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
    assert (responses["first"].status_code, responses["second"].status_code) == (
        201,
        200,
    )
    assert responses["second"].json()["id"] == responses["first"].json()["id"]
    assert Purchase.objects.count() == 1
    customer.refresh_from_db()
    assert customer.orders_count == 1
