"""The audit trail: PostgreSQL triggers record every change to the audited
tables, the ORM's bulk paths included, with the acting user and origin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from crm.api.services import create_api_token, revoke_api_token
from crm.audit.models import AuditEvent
from crm.audit.tables import AUDITED_TABLES
from crm.audit.triggers import installed_audit_tables
from crm.security.services import update_security_settings
from customers import services
from customers.audit_actor import ActorWrapper, acting_as
from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def events(table: str, row_id=None):
    found = AuditEvent.objects.of_table(table).order_by("id")
    return found.filter(row_id=str(row_id)) if row_id is not None else found


def test_every_listed_table_has_its_triggers_in_the_database():
    # A table added to AUDITED_TABLES without its migration fails here.
    assert set(AUDITED_TABLES) <= installed_audit_tables(connection)


def test_creating_a_customer_on_the_page_records_who_and_what(staff_client, staff_user):
    response = staff_client.post(
        reverse("customers:create"),
        {"first_name": "Zoë", "last_name": "Martin", "email": "zoe@example.com"},
    )
    assert response.status_code == 302
    customer = Customer.objects.get(email="zoe@example.com")

    (created,) = events("customers_customer", customer.pk)
    assert created.action == AuditEvent.Action.INSERT
    assert created.actor == staff_user
    assert created.origin == "POST /customers/new/"
    assert created.customer_id == customer.pk
    assert created.changes["first_name"] == {"new": "Zoë"}
    assert created.changes["email"] == {"new": "zoe@example.com"}
    # Derived and bookkeeping columns stay out of the trail.
    assert "search_text" not in created.changes
    assert "updated_at" not in created.changes
    # An insert keeps the whole new row; there was no old one.
    assert created.old_values is None
    assert created.new_values["last_name"] == "Martin"


def test_an_edit_records_only_the_changed_columns_with_old_and_new(
    staff_client, staff_user
):
    customer = CustomerFactory(first_name="Ann", last_name="Lee", notes="")
    staff_client.post(
        reverse("customers:edit", args=[customer.pk]),
        {
            "first_name": "Anne",
            "last_name": "Lee",
            "email": customer.email,
            "phone": customer.phone,
            "notes": "Prefers mornings",
        },
    )
    update = events("customers_customer", customer.pk).get(action="update")
    assert update.changes == {
        "first_name": {"old": "Ann", "new": "Anne"},
        "notes": {"old": "", "new": "Prefers mornings"},
    }
    assert update.actor == staff_user


def test_a_save_that_changes_nothing_records_nothing():
    customer = CustomerFactory()
    before = events("customers_customer").count()
    customer.save()  # updated_at changes, which is not audited
    assert events("customers_customer").count() == before


def test_bulk_update_and_bulk_create_are_recorded_row_by_row(owner_user):
    customers = CustomerFactory.create_batch(3, notes="")
    with acting_as(owner_user, origin="command:test"):
        changed = Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
            notes="Winter sale"
        )
        Customer.objects.bulk_create(
            [
                Customer(last_name=f"Bulk {n}", email=f"bulk{n}@example.com")
                for n in range(2)
            ]
        )
    assert changed == 3
    updates = events("customers_customer").filter(action="update")
    assert sorted(int(e.row_id) for e in updates) == sorted(c.pk for c in customers)
    assert {e.actor_id for e in updates} == {owner_user.pk}
    assert {e.origin for e in updates} == {"command:test"}
    assert all(
        e.changes == {"notes": {"old": "", "new": "Winter sale"}} for e in updates
    )
    inserted = events("customers_customer").filter(
        new_values__last_name__startswith="Bulk"
    )
    assert inserted.count() == 2


def test_deleting_records_the_old_values():
    customer = CustomerFactory(first_name="Gone", last_name="Soon")
    pk = customer.pk
    Customer.objects.filter(pk=pk).delete()
    deleted = events("customers_customer", pk).get(action="delete")
    assert deleted.changes["first_name"] == {"old": "Gone"}
    assert deleted.customer_id == pk


def test_consent_purchases_and_refunds_are_recorded(staff_user):
    customer = CustomerFactory()
    with acting_as(staff_user, origin="test"):
        services.update_customer(customer=customer, by=staff_user, email_opt_in=True)
        purchase, _ = services.record_purchase(
            customer=customer, amount="40.00", occurred_at=timezone.now()
        )
        services.refund_purchase(purchase=purchase, amount="15.00", by=staff_user)

    consent = events("customers_consentchange").get(customer_id=customer.pk)
    assert consent.changes["opted_in"] == {"new": True}
    assert consent.changes["channel"] == {"new": "email"}
    purchase_events = events("customers_purchase", purchase.pk)
    assert [e.action for e in purchase_events] == ["insert", "update"]
    refund = purchase_events.last()
    assert Decimal(str(refund.changes["refunded_amount"]["old"])) == Decimal("0")
    assert Decimal(str(refund.changes["refunded_amount"]["new"])) == Decimal("15.00")
    assert refund.actor == staff_user
    assert refund.customer_id == customer.pk
    # The customer's running figures changed too, and that is on record.
    figures = events("customers_customer", customer.pk).filter(action="update")
    assert any("total_spent" in e.changes for e in figures)


def test_api_tokens_are_recorded_without_their_secret(owner_user):
    with acting_as(owner_user, origin="test"):
        token, secret = create_api_token(user=owner_user, name="Till")
        revoke_api_token(token=token, by=owner_user)
    created, revoked = events("crm_apitoken", token.pk)
    assert created.changes["name"] == {"new": "Till"}
    assert "secret_hash" not in created.changes
    assert secret not in str(created.changes) and token.secret_hash not in str(
        created.changes
    )
    assert set(revoked.changes) == {"revoked_at", "revoked_by_id"}
    assert revoked.actor == owner_user


def test_security_settings_changes_are_recorded(owner_user):
    with acting_as(owner_user):
        update_security_settings(
            by=owner_user, idle_timeout_minutes=20, absolute_timeout_hours=8
        )
    # The first save stores the defaults, then the Owner's values.
    event = events("crm_securitysettings").last()
    assert event.changes["idle_timeout_minutes"] == {"old": 30, "new": 20}
    assert event.changes["absolute_timeout_hours"] == {"old": 12, "new": 8}
    assert event.actor == owner_user


def test_without_an_actor_the_change_is_the_systems():
    customer = CustomerFactory()
    (event,) = events("customers_customer", customer.pk)
    assert event.actor_id is None
    assert event.origin == ""


def test_the_innermost_actor_speaks_and_the_outer_one_resumes(staff_user, owner_user):
    with acting_as(staff_user, origin="outer"):
        first = CustomerFactory()
        with acting_as(owner_user, origin="inner"):
            second = CustomerFactory()
        third = CustomerFactory()
    assert [
        (
            events("customers_customer", c.pk).get().actor_id,
            events("customers_customer", c.pk).get().origin,
        )
        for c in (first, second, third)
    ] == [(staff_user.pk, "outer"), (owner_user.pk, "inner"), (staff_user.pk, "outer")]


@pytest.mark.django_db(transaction=True)
def test_the_actor_is_local_to_its_transaction(roles, staff_user):
    # Real transactions here (no test-wide one): autocommit writes get their
    # own, and a setting never survives into work done outside acting_as().
    with acting_as(staff_user, origin="shop"):
        lone = CustomerFactory()  # autocommit: its own transaction
        with transaction.atomic():
            inside = CustomerFactory()
    after = CustomerFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('crm.actor', true)")
        leftover = cursor.fetchone()[0]

    assert events("customers_customer", lone.pk).get().actor_id == staff_user.pk
    assert events("customers_customer", inside.pk).get().actor_id == staff_user.pk
    outside = events("customers_customer", after.pk).get()
    assert (outside.actor_id, outside.origin) == (None, "")
    assert leftover in (None, "")


@pytest.mark.django_db(transaction=True)
def test_an_api_call_is_attributed_to_the_tokens_user(roles, owner_user):
    from rest_framework.test import APIClient

    _, secret = create_api_token(user=owner_user, name="Shop")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api.post(
        "/api/v1/customers/",
        {"last_name": "Api", "email": "api@example.com"},
        format="json",
    )
    assert response.status_code == 201, response.content
    event = events("customers_customer", response.json()["id"]).get()
    assert event.actor_id == owner_user.pk
    assert event.origin == "POST /api/v1/customers/"


@pytest.mark.django_db(transaction=True)
def test_the_actor_costs_a_statement_per_transaction_and_none_for_reading(
    staff_client, monkeypatch
):
    calls = []
    original = ActorWrapper._set

    def counted(self, raw_connection, values, state):
        calls.append(values)
        return original(self, raw_connection, values, state)

    monkeypatch.setattr(ActorWrapper, "_set", counted)
    CustomerFactory.create_batch(3)
    staff_client.get(reverse("customers:list"))
    assert calls == []

    staff_client.post(
        reverse("customers:create"), {"last_name": "One", "email": "one@example.com"}
    )
    # create_customer is one transaction: one set_config for it.
    assert len(calls) == 1


def test_writes_while_reading_through_a_server_side_cursor(owner_user):
    CustomerFactory.create_batch(3, notes="")
    with acting_as(owner_user, origin="batch"), transaction.atomic():
        # iterator() reads through a server-side cursor on PostgreSQL.
        for customer in Customer.objects.order_by("pk").iterator(chunk_size=2):
            customer.notes = "seen"
            customer.save(update_fields=["notes"])
    updates = events("customers_customer").filter(action="update")
    assert updates.count() == 3
    assert {(e.actor_id, e.origin) for e in updates} == {(owner_user.pk, "batch")}
