"""The Owner's audit trail page, and erasure reaching into the trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.audit.erasure import ERASED
from crm.audit.models import AuditEvent
from customers import services
from customers.audit_actor import acting_as
from customers.data_rights import customer_data
from customers.models import Customer
from customers.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("audit:list")


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_users_in_no_group_and_staff_are_refused(client, roles, staff_client):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(URL).status_code == 403
    assert staff_client.get(URL).status_code == 403


def test_owners_see_who_changed_what(owner_client, owner_user):
    with acting_as(owner_user, origin="test"):
        CustomerFactory(first_name="Marta", last_name="Ruiz")
    page = owner_client.get(URL).content.decode()
    assert "Marta" in page
    assert "customers_customer" in page
    assert owner_user.username in page


def test_the_owner_searches_by_table_row_actor_action_and_dates(
    owner_client, owner_user, staff_user
):
    with acting_as(staff_user):
        kept = CustomerFactory(last_name="Kept")
    with acting_as(owner_user):
        other = CustomerFactory(last_name="Other")
        services.record_purchase(
            customer=other, amount="10.00", occurred_at=timezone.now()
        )
    AuditEvent.objects.of_row("customers_customer", other.pk).update(
        at=timezone.now() - timedelta(days=40)
    )

    def shown(**params) -> set[str]:
        response = owner_client.get(URL, params)
        assert response.status_code == 200
        return {f"{e.table_name}:{e.row_id}" for e in response.context["events"]}

    kept_row = f"customers_customer:{kept.pk}"
    other_row = f"customers_customer:{other.pk}"
    assert {kept_row, other_row} <= shown()
    assert shown(table="customers_customer", row=kept.pk) == {kept_row}
    assert kept_row not in shown(actor=owner_user.pk)
    assert shown(actor=staff_user.pk) == {kept_row}
    assert other_row not in shown(since=(timezone.localdate() - timedelta(days=7)))
    assert other_row in shown(until=(timezone.localdate() - timedelta(days=30)))
    assert kept_row not in shown(until=(timezone.localdate() - timedelta(days=30)))
    purchases = shown(table="customers_purchase", customer=other.pk)
    assert len(purchases) == 1 and next(iter(purchases)).startswith(
        "customers_purchase"
    )
    assert shown(action="delete") == set()


def test_the_trail_is_paginated(owner_client, owner_user):
    with acting_as(owner_user):
        CustomerFactory.create_batch(55)
    first = owner_client.get(URL)
    second = owner_client.get(URL, {"page": 2})
    assert len(first.context["events"]) == 50
    assert len(second.context["events"]) >= 5
    assert {e.pk for e in first.context["events"]}.isdisjoint(
        e.pk for e in second.context["events"]
    )


@pytest.mark.parametrize(
    "params, status",
    [
        ({"page": "-1"}, 404),
        ({"page": "0"}, 404),
        ({"page": "abc"}, 404),
        ({"page": "99999999999999999999"}, 404),
        ({"since": "not a date"}, 200),
        ({"since": "0001-01-01", "until": "9999-12-31"}, 200),
        ({"since": "2026-02-01", "until": "2026-01-01"}, 200),
        ({"customer": "-5"}, 200),
        ({"customer": "9" * 30}, 200),
        ({"row": "x" * 5000}, 200),
        ({"row": "a\x00b"}, 200),
        ({"table": "pg_authid"}, 200),
        ({"actor": "abc"}, 200),
    ],
)
def test_bad_search_input_is_a_form_error_or_not_found(owner_client, params, status):
    assert owner_client.get(URL, params).status_code == status


PERSONAL = [
    "Quibble",
    "zoe.quibble@example.com",
    "7700 900999",
    "REF-QUIBBLE",
    "12 Larkspur Lane",
    "ORDER-QUIBBLE-1",
    "met at the fair",
]


def test_erasure_leaves_no_personal_data_in_the_trail(owner_client, owner_user):
    with acting_as(owner_user, origin="test"):
        customer = services.create_customer(
            by=owner_user,
            first_name="Zoë",
            last_name="Quibble",
            email="zoe.quibble@example.com",
            phone="+44 7700 900999",
            reference="REF-QUIBBLE",
            notes="Lives at 12 Larkspur Lane",
        )
        services.update_customer(
            customer=customer,
            by=owner_user,
            email_opt_in=True,
            consent_source="met at the fair",
        )
        services.record_purchase(
            customer=customer,
            amount="30.00",
            occurred_at=timezone.now(),
            reference="ORDER-QUIBBLE-1",
        )
    before = AuditEvent.objects.of_customer(customer.pk).count()
    trail_before = owner_client.get(URL, {"customer": customer.pk}).content.decode()
    assert all(text in trail_before for text in PERSONAL)  # the test can fail

    response = owner_client.post(
        reverse("customers:erase", args=[customer.pk]), {"confirm": "on"}
    )
    assert response.status_code == 302

    events = AuditEvent.objects.of_customer(customer.pk)
    # Nothing deleted: who did what when stays; the erasure itself is on record.
    assert events.count() > before
    assert events.filter(table_name="customers_erasurerecord").exists()
    assert (
        not events.filter(erased_at__isnull=True, action="insert")
        .filter(table_name="customers_customer")
        .exists()
    )
    for params in ({"customer": customer.pk}, {"table": "customers_customer"}, {}):
        page = owner_client.get(URL, params).content.decode()
        for text in PERSONAL:
            assert text not in page, (params, text)
    with connection.cursor() as cursor:
        for text in PERSONAL:
            cursor.execute(
                "SELECT count(*) FROM crm_auditevent WHERE "
                "concat(old_values::text, new_values::text) ILIKE %s",
                [f"%{text}%"],
            )
            assert cursor.fetchone()[0] == 0, text
    assert ERASED in owner_client.get(URL, {"customer": customer.pk}).content.decode()
    # Amounts stay, as in the purchases themselves.
    purchase_event = events.filter(
        table_name="customers_purchase", action="insert"
    ).get()
    assert str(purchase_event.changes["amount"]["new"]) in ("30.00", "30.0", "30")
    assert Customer.objects.get(pk=customer.pk).last_name == "[erased]"


def test_the_data_download_includes_the_customers_trail(owner_user):
    with acting_as(owner_user):
        customer = CustomerFactory(first_name="Ines")
    data = customer_data(customer)
    assert data["audit"][0]["changes"]["first_name"] == {"new": "Ines"}
