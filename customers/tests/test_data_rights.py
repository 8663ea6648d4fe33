"""A customer's data rights: the JSON download, and erasure that keeps the figures."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.data_rights import ERASED_MARKER, customer_data, erase_customer
from customers.exports import customer_rows, interaction_rows, purchase_rows
from customers.models import Customer, ErasureRecord, Purchase
from customers.tests.factories import TagFactory
from customers.wiring import PersonalData

pytestmark = pytest.mark.django_db

PERSONAL = [
    "Zoë", "Quintero", "zoe.quintero@example.com", "+44 7700 900123", "ZQ-778",
    "Prefers calls after six", "Asked about the blue kettle", "Lives on Elm Street",
    "Rude delivery driver", "ORD-ZQ-1", "Ring back about Elm Street",
]  # fmt: skip


@pytest.fixture
def zoe(staff_user):
    customer = services.create_customer(
        first_name="Zoë", last_name="Quintero", email="zoe.quintero@example.com",
        phone="+44 7700 900123", reference="ZQ-778", notes="Prefers calls after six",
        email_opt_in=True, birthday=timezone.localdate().replace(year=1990),
        tags=[TagFactory(name="VIP")], by=staff_user,
    )  # fmt: skip
    now = timezone.now()
    services.log_interaction(
        customer=customer, kind="call", subject="Asked about the blue kettle",
        body="Lives on Elm Street", by=staff_user,
        follow_up_on=timezone.localdate(), follow_up_note="Ring back about Elm Street",
    )  # fmt: skip
    services.record_purchase(
        customer=customer, amount="40.00", occurred_at=now - timedelta(days=3),
        reference="ORD-ZQ-1", channel="shop",
    )  # fmt: skip
    services.record_purchase(
        customer=customer, amount="15.50", occurred_at=now - timedelta(days=1)
    )
    services.record_feedback(
        customer=customer, kind="csat", score=2, comment="Rude delivery driver"
    )
    return Customer.objects.get(pk=customer.pk)


def dump(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_the_download_holds_everything(zoe):
    data = customer_data(zoe)
    text = dump(data)
    for value in PERSONAL:
        assert value in text, value
    assert data["profile"]["tags"] == ["VIP"]
    assert [p["amount"] for p in data["purchases"]] == ["40.00", "15.50"]
    assert data["consent_history"][0]["channel"] == "email"
    assert data["feedback"][0]["score"] == 2


def test_erase_then_export_shows_no_personal_data_and_totals_stay(zoe, owner_user):
    before = (zoe.orders_count, zoe.total_spent, zoe.first_purchase_at)
    revenue = sum(Purchase.objects.values_list("amount", flat=True))
    erase_customer(customer=zoe, by=owner_user)

    zoe.refresh_from_db()
    text = dump(customer_data(zoe))
    exports = "".join(
        str(row)
        for rows in (customer_rows(Customer.objects.all()), purchase_rows(),
                     interaction_rows())
        for row in rows
    )  # fmt: skip
    for value in PERSONAL:
        assert value not in text, value
        assert value not in exports, value
    assert zoe.last_name == ERASED_MARKER and not zoe.email_opt_in
    assert (zoe.orders_count, zoe.total_spent, zoe.first_purchase_at) == before
    assert sum(Purchase.objects.values_list("amount", flat=True)) == revenue
    assert zoe.purchases.count() == 2 and zoe.feedback.get().score == 2
    record = ErasureRecord.objects.get()
    assert (record.customer, record.by) == (zoe, owner_user)
    assert "Quintero" not in dump(record.wiped)
    assert not Customer.objects.search("quintero").exists()


ERASED: list = []
# Another app's rows, as settings.CRM_PERSONAL_DATA would name them.
TEST_APP = PersonalData(
    "test_app", export=lambda c: {"nickname": "Zed"}, erase=ERASED.append
)


def test_other_apps_rows_are_exported_and_erased_as_settings_list_them(
    zoe, owner_user, settings
):
    settings.CRM_PERSONAL_DATA = [
        *settings.CRM_PERSONAL_DATA,
        "customers.tests.test_data_rights.TEST_APP",
    ]
    ERASED.clear()
    assert customer_data(zoe)["test_app"] == {"nickname": "Zed"}
    record = erase_customer(customer=zoe, by=owner_user)
    assert [zoe] == ERASED
    assert record.wiped["test_app"] is True


def test_a_customer_is_erased_once(zoe, owner_user):
    erase_customer(customer=zoe, by=owner_user)
    with pytest.raises(Exception, match="already been erased"):
        erase_customer(customer=zoe, by=owner_user)


def test_owner_downloads_json_and_erases_after_confirming(owner_client, zoe):
    response = owner_client.get(reverse("customers:data-export", args=[zoe.pk]))
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["profile"]["email"] == zoe.email

    url = reverse("customers:erase", args=[zoe.pk])
    assert "cannot be undone" in owner_client.get(url).content.decode()
    response = owner_client.post(url, {})  # not confirmed
    assert response.status_code == 200 and response.context["form"].errors
    zoe.refresh_from_db()
    assert zoe.email  # nothing changed

    response = owner_client.post(url, {"confirm": "on"}, follow=True)
    zoe.refresh_from_db()
    assert zoe.email == "" and zoe.total_spent == Decimal("55.50")
    assert "personal data was erased" in response.content.decode()


def test_staff_can_neither_download_nor_erase(staff_client, zoe):
    for name in ("customers:data-export", "customers:erase"):
        url = reverse(name, args=[zoe.pk])
        assert staff_client.get(url).status_code == 403
        assert staff_client.post(url, {"confirm": "on"}).status_code == 403
    zoe.refresh_from_db()
    assert zoe.email
