"""CSV exports: streamed, filtered like the list, safe in a spreadsheet."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.exports import FORMULA_STARTS, neutralise
from customers.purchase_import import PurchaseImporter
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def read(response) -> list[dict]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_that_could_start_a_formula_is_neutralised(start):
    assert neutralise(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n", "\0"])
def test_every_dangerous_start_is_covered_including_the_four_defusedcsv_misses(start):
    assert start in FORMULA_STARTS


def test_numbers_and_plain_text_are_left_alone():
    assert neutralise(Decimal("-0.50")) == "-0.50"
    assert neutralise("Zoë Åberg") == "Zoë Åberg"
    assert neutralise(None) == ""
    assert neutralise(True) == "true"


def test_customer_export_applies_the_list_filters_and_neutralises_cells(
    owner_client,
):
    vip = TagFactory(name="VIP")
    tagged = CustomerFactory(first_name='=HYPERLINK("http://x")', last_name="Evil")
    tagged.tags.add(vip)
    CustomerFactory(first_name="Untagged")
    services.record_purchase(
        customer=tagged, amount="12.50", occurred_at=timezone.now()
    )
    response = owner_client.get(reverse("customers:export"), {"tag": vip.pk})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read(response)
    assert len(rows) == 1
    assert rows[0]["first_name"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["tags"] == "VIP"
    assert (rows[0]["orders"], rows[0]["total_spent"]) == ("1", "12.50")


def test_purchase_export_reads_back_through_the_importer(owner_client):
    customer = CustomerFactory(reference="C-1")
    services.record_purchase(
        customer=customer, amount="9.99", occurred_at=timezone.now(), reference="O-1"
    )
    rows = read(owner_client.get(reverse("customers:purchase-export")))
    assert rows[0]["customer"] == "C-1" and rows[0]["amount"] == "9.99"
    # The export is in the import format: importing it back changes nothing.
    text = "customer,occurred_at,amount,reference,currency,channel\n" + "".join(
        f"{r['customer']},{r['occurred_at']},{r['amount']},{r['reference']},"
        f"{r['currency']},{r['channel']}\n"
        for r in rows
    )
    report = PurchaseImporter().run(io.BytesIO(text.encode()))
    assert (report.created, report.unchanged, report.rejected) == (0, 1, [])


def test_interaction_export_lists_who_logged_what(owner_client, owner_user):
    customer = CustomerFactory(email="ann@example.com", reference="")
    services.log_interaction(
        customer=customer, kind="call", subject="+1 called back", by=owner_user
    )
    rows = read(owner_client.get(reverse("customers:interaction-export")))
    assert rows[0]["customer"] == "ann@example.com"
    assert rows[0]["subject"] == "'+1 called back"
    assert rows[0]["by"] == owner_user.username


def test_staff_cannot_export(staff_client):
    for name in ("customers:export", "customers:purchase-export"):
        assert staff_client.get(reverse(name)).status_code == 403
