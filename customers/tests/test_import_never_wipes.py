"""A customers import never wipes what the CRM holds, and an export imports back
unchanged (issue: nothing lost, nothing corrupted, items 1 and 2)."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from customers import exports, services
from customers.customer_import import CustomerImporter
from customers.models import ConsentChange, Customer, Purchase, Tag
from customers.purchase_import import PurchaseImporter
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def csv_bytes(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


@pytest.fixture
def vip_local_customer():
    customer = services.create_customer(
        reference="C-1",
        first_name="Zoë",
        last_name="Åberg",
        email="zoe@example.com",
        phone="+44 20 7946 0000",
        email_opt_in=True,
        sms_opt_in=True,
        tags=[services.create_tag(name="VIP"), services.create_tag(name="Local")],
    )
    return customer


def tag_names(customer) -> list[str]:
    return sorted(customer.tags.values_list("name", flat=True))


def test_blank_tags_and_consent_cells_keep_what_the_customer_has(vip_local_customer):
    consent_changes = ConsentChange.objects.count()
    report = CustomerImporter().run(
        csv_bytes(
            "reference,first_name,last_name,email,phone,tags,email_opt_in,sms_opt_in\n"
            "C-1,,,,,,,\n"
        )
    )
    assert (report.updated, report.unchanged, report.rejected) == (0, 1, [])
    customer = Customer.objects.get(pk=vip_local_customer.pk)
    assert tag_names(customer) == ["Local", "VIP"]
    assert customer.email_opt_in and customer.sms_opt_in
    assert (customer.first_name, customer.email) == ("Zoë", "zoe@example.com")
    assert customer.phone == "+44 20 7946 0000"
    assert ConsentChange.objects.count() == consent_changes


def test_consent_changes_only_on_an_explicit_false(vip_local_customer):
    report = CustomerImporter().run(
        csv_bytes("reference,email_opt_in,sms_opt_in\nC-1,false,\n")
    )
    assert report.updated == 1
    customer = Customer.objects.get(pk=vip_local_customer.pk)
    assert (customer.email_opt_in, customer.sms_opt_in) == (False, True)
    assert report.updates[0].changes == ["email consent: yes → no"]
    latest = ConsentChange.objects.filter(customer=customer).latest("pk")
    assert (latest.channel, latest.opted_in, latest.source) == (
        "email",
        False,
        "import",
    )


def test_a_tags_cell_adds_tags_unless_the_import_replaces_them(vip_local_customer):
    report = CustomerImporter().run(csv_bytes("reference,tags\nC-1,Newsletter\n"))
    assert tag_names(vip_local_customer) == ["Local", "Newsletter", "VIP"]
    assert report.updates[0].changes == ["tags: Local, VIP → Local, Newsletter, VIP"]
    report = CustomerImporter(replace_tags=True).run(
        csv_bytes("reference,tags\nC-1,\n")
    )
    assert tag_names(vip_local_customer) == []
    assert report.updates[0].changes == ["tags: Local, Newsletter, VIP → none"]


def test_the_preview_lists_each_change_old_to_new_and_writes_nothing(
    vip_local_customer,
):
    report = CustomerImporter(dry_run=True, replace_tags=True).run(
        csv_bytes("reference,first_name,tags,email_opt_in\nC-1,Zoe,,no\n")
    )
    assert report.updated == 1
    assert report.updates[0].line == 2
    assert report.updates[0].changes == [
        "first name: Zoë → Zoe",
        "email consent: yes → no",
        "tags: Local, VIP → none",
    ]
    customer = Customer.objects.get(pk=vip_local_customer.pk)
    assert (customer.first_name, customer.email_opt_in) == ("Zoë", True)
    assert tag_names(customer) == ["Local", "VIP"]


def test_changes_of_form_only_count_as_unchanged(vip_local_customer):
    report = CustomerImporter().run(
        csv_bytes(
            "reference,email,tags,email_opt_in,sms_opt_in\n"
            "C-1,  ZOE@Example.COM ,local;vip,TRUE,Yes\n"
        )
    )
    assert (report.updated, report.unchanged, report.updates) == (0, 1, [])
    assert Tag.objects.count() == 2


def test_the_replace_tags_option_of_the_command(vip_local_customer, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("reference,tags\nC-1,Local\n")
    call_command("import_customers", str(path), "--replace-tags", stdout=io.StringIO())
    assert tag_names(vip_local_customer) == ["Local"]


def test_the_upload_has_a_replace_tags_checkbox_that_is_kept_to_the_import(
    owner_client, vip_local_customer
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.csv", b"reference,tags\nC-1,\n", "text/csv")
    preview = owner_client.post(
        "/customers/import/",
        {"kind": "customers", "file": upload, "replace_tags": "on"},
    )
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "tags: Local, VIP → none" in page
    assert tag_names(vip_local_customer) == ["Local", "VIP"]
    upload_id = preview.context["upload"]
    done = owner_client.post(
        "/customers/import/",
        {"upload": upload_id, "kind": "customers", "replace_tags": "True"},
    )
    assert done.status_code == 200
    assert tag_names(vip_local_customer) == []


def exported_customers() -> bytes:
    lines = exports.csv_lines(
        exports.CUSTOMER_HEADER, exports.customer_rows(Customer.objects.all())
    )
    return "".join(lines).encode("utf-8")


def test_the_customers_export_imports_back_unchanged(vip_local_customer, staff_user):
    # Text a spreadsheet would run (the export guards it with an apostrophe).
    CustomerFactory(
        reference="=HYPERLINK(1)",
        first_name="+Plus",
        last_name="-Minus",
        email="at@example.com",
        phone="@home",
        owner=staff_user,
    )
    services.record_purchase(
        customer=vip_local_customer,
        amount=Decimal("12.50"),
        occurred_at=timezone.now(),
    )
    before = list(Customer.objects.order_by("pk").values())
    tags_before = {c.pk: tag_names(c) for c in Customer.objects.all()}
    data = exported_customers()
    assert b"'=HYPERLINK(1)" in data  # the guard is there to be taken off
    report = CustomerImporter().run(io.BytesIO(data))
    assert report.rejected == []
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert report.notes and "ignored" in report.notes[0].lower()
    for column in ("id", "owner", "orders", "total_spent"):
        assert column in report.notes[0]
    assert list(Customer.objects.order_by("pk").values()) == before
    assert {c.pk: tag_names(c) for c in Customer.objects.all()} == tags_before


def test_the_purchases_export_imports_back_unchanged(vip_local_customer):
    purchase, _ = services.record_purchase(
        customer=vip_local_customer,
        amount=Decimal("30.00"),
        occurred_at=timezone.now(),
        reference="-ORDER-1",
        channel="=web",
    )
    services.refund_purchase(purchase=purchase, amount=Decimal("5.00"))
    services.record_purchase(
        customer=vip_local_customer,
        amount=Decimal("8.00"),
        occurred_at=timezone.now(),
    )
    data = "".join(
        exports.csv_lines(exports.PURCHASE_HEADER, exports.purchase_rows())
    ).encode("utf-8")
    before = list(Purchase.objects.order_by("pk").values())
    for row_by_row in (False, True):
        report = PurchaseImporter(row_by_row=row_by_row).run(io.BytesIO(data))
        assert report.rejected == []
        assert (report.created, report.unchanged) == (0, 2)
        assert "refunded_amount" in " ".join(report.notes)
    assert list(Purchase.objects.order_by("pk").values()) == before


def test_unknown_columns_are_still_an_error():
    report_error = None
    try:
        CustomerImporter().run(csv_bytes("reference,favourite_colour\nC-9,red\n"))
    except Exception as error:  # noqa: BLE001 - the file error is the point
        report_error = str(error)
    assert report_error and "favourite_colour" in report_error
    assert not Customer.objects.filter(reference="C-9").exists()
