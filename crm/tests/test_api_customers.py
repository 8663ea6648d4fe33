"""The customer endpoints: list with search and paging, read, add, change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import ConsentChange, Customer
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api:customer-list")


def detail(customer) -> str:
    return reverse("api:customer-detail", args=[customer.pk])


def test_list_pages_fifty_at_a_time(staff_api, django_assert_max_num_queries):
    CustomerFactory.create_batch(55)
    # token, groups, last-used update, count, page, tags of the page.
    with django_assert_max_num_queries(6):
        first = staff_api.get(LIST)
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 55
    assert len(body["results"]) == 50
    assert body["next"].endswith("?page=2")
    second = staff_api.get(LIST, {"page": 2}).json()
    assert len(second["results"]) == 5
    ids = [c["id"] for c in body["results"] + second["results"]]
    assert sorted(ids) == sorted(Customer.objects.values_list("pk", flat=True))


def test_list_page_size_is_capped(staff_api):
    CustomerFactory.create_batch(3)
    body = staff_api.get(LIST, {"page_size": 2}).json()
    assert len(body["results"]) == 2
    assert staff_api.get(LIST, {"page": 99}).status_code == 404


def test_search_uses_the_customer_search(staff_api):
    zoe = CustomerFactory(first_name="Zoë", last_name="Martin", phone="+44 7700 900123")
    CustomerFactory(first_name="Adam", last_name="Smith", phone="+33 1 23 45 67 89")
    for query in ["zoe", "MARTIN", "07700 900"]:
        results = staff_api.get(LIST, {"search": query}).json()["results"]
        assert [c["id"] for c in results] == [zoe.pk], query
    assert staff_api.get(LIST, {"search": "nobody"}).json()["count"] == 0


def test_search_with_a_nul_character_is_not_an_error(staff_api):
    assert staff_api.get(LIST, {"search": "zo\x00e"}).status_code == 200


def test_retrieve_shows_profile_tags_and_figures(staff_api, staff_user):
    customer = CustomerFactory(owner=staff_user)
    customer.tags.add(TagFactory(name="VIP"))
    services.record_purchase(
        customer=customer, amount="30.00", occurred_at=timezone.now()
    )
    body = staff_api.get(detail(customer)).json()
    assert body["email"] == customer.email
    assert body["owner"] == staff_user.username
    assert body["tags"] == ["VIP"]
    assert body["orders_count"] == 1
    assert Decimal(body["total_spent"]) == Decimal("30.00")


def test_unknown_customer_is_404(staff_api):
    assert staff_api.get("/api/v1/customers/999999/").status_code == 404
    assert staff_api.get("/api/v1/customers/99999999999999999999/").status_code == 404


def test_create_goes_through_the_service_and_records_consent(staff_api, staff_user):
    tag = TagFactory(name="Newsletter")
    response = staff_api.post(
        LIST,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "tags": ["newsletter"],
            "owner": staff_user.username,
            "email_opt_in": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(email="ada@example.com")
    assert response.json()["id"] == customer.pk
    assert list(customer.tags.all()) == [tag]
    assert customer.owner == staff_user
    assert customer.search_text  # kept by the model's save, as for staff pages
    change = ConsentChange.objects.get(customer=customer)
    assert (change.channel, change.opted_in, change.source, change.by) == (
        "email",
        True,
        "api",
        staff_user,
    )
    assert response.json()["email_opt_in_at"] is not None


def test_create_refuses_a_duplicate_email_beside_the_field(staff_api):
    CustomerFactory(email="ada@example.com")
    response = staff_api.post(
        LIST, {"first_name": "Ada", "email": "ADA@example.com"}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()
    assert Customer.objects.count() == 1


def test_create_needs_something_to_identify_the_customer(staff_api):
    response = staff_api.post(LIST, {"phone": "+44 1"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Give a name, an email or a reference."]
    }


def test_create_refuses_unknown_tag_and_owner(staff_api):
    response = staff_api.post(
        LIST,
        {"first_name": "Ada", "tags": ["nope"], "owner": "ghost"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"tags", "owner"}
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("orders_count", 99),
        ("total_spent", "1000.00"),
        ("first_purchase_at", "2020-01-01T00:00:00Z"),
        ("last_purchase_at", "2020-01-01T00:00:00Z"),
        ("last_contact_at", "2020-01-01T00:00:00Z"),
        ("last_automated_at", "2020-01-01T00:00:00Z"),
        ("email_opt_in_at", "2020-01-01T00:00:00Z"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("id", 12345),
    ],
)
def test_running_figures_and_read_only_fields_cannot_be_set(staff_api, field, value):
    customer = CustomerFactory()
    created = staff_api.post(LIST, {"first_name": "Ada", field: value}, format="json")
    assert created.status_code == 400
    assert created.json() == {field: ["This field is read-only."]}
    changed = staff_api.patch(detail(customer), {field: value}, format="json")
    assert changed.status_code == 400
    customer.refresh_from_db()
    assert customer.orders_count == 0
    assert customer.total_spent == Decimal("0")
    assert customer.last_contact_at is None
    assert Customer.objects.count() == 1


def test_partial_update_changes_only_what_is_sent(staff_api):
    customer = CustomerFactory(first_name="Zoe", phone="+44 1234")
    customer.tags.add(TagFactory(name="VIP"))
    response = staff_api.patch(detail(customer), {"last_name": "Durand"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name, customer.phone) == (
        "Zoe",
        "Durand",
        "+44 1234",
    )
    assert [t.name for t in customer.tags.all()] == ["VIP"]
    assert response.json()["last_name"] == "Durand"


def test_full_update_replaces_the_profile_and_tags(staff_api, staff_user):
    customer = CustomerFactory(first_name="Zoe", phone="+44 1234")
    customer.tags.add(TagFactory(name="VIP"))
    response = staff_api.put(
        detail(customer),
        {
            "first_name": "Zoé",
            "email": "zoe@example.com",
            "tags": [],
            "sms_opt_in": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    customer.refresh_from_db()
    assert customer.first_name == "Zoé"
    assert customer.email == "zoe@example.com"
    assert customer.sms_opt_in is True
    assert not customer.tags.exists()
    assert customer.consent_changes.get().by == staff_user


def test_update_errors_leave_the_customer_unchanged(staff_api):
    CustomerFactory(email="taken@example.com")
    customer = CustomerFactory(first_name="Zoe")
    response = staff_api.patch(
        detail(customer),
        {"first_name": "Changed", "email": "taken@example.com"},
        format="json",
    )
    assert response.status_code == 400
    assert "email" in response.json()
    customer.refresh_from_db()
    assert customer.first_name == "Zoe"


def test_customers_cannot_be_deleted_through_the_api(staff_api):
    customer = CustomerFactory()
    assert staff_api.delete(detail(customer)).status_code == 405
    assert Customer.objects.filter(pk=customer.pk).exists()
