"""CSV import: reading, row checks and their report, idempotence, dry runs."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.csv_input import CsvFileError
from customers.customer_import import CustomerImporter
from customers.models import ConsentChange, Customer, Purchase
from customers.purchase_import import PurchaseImporter
from customers.signals import purchase_recorded, purchases_bulk_recorded
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def csv_bytes(text: str, *, bom: bool = False) -> io.BytesIO:
    data = text.encode("utf-8")
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


CUSTOMERS = (
    "reference;first_name;last_name;email;tags;email_opt_in;birthday\n"
    'C-1;Zoë;"Åberg; the elder";zoe@example.com;"VIP;Local";true;1990-04-01\n'
    "\n"
    "C-2;Bob;Baker;not-an-email;;false;\n"
    "C-3;Cat;Cole;cat@example.com;;maybe;\n"
    "C-4;Dan;Dunn;dan@example.com;;no;01/02/1980\n"
    "C-5;Eve;Evans;EVE@example.com;Newsletter;yes;\n"
)


def test_customers_file_with_bom_semicolons_quotes_and_blank_lines():
    # Line 2 has a quoted delimiter; line 3 is blank; lines 4-6 are rejected.
    report = CustomerImporter().run(csv_bytes(CUSTOMERS, bom=True))
    assert [str(p) for p in report.rejected] == [
        "line 4, column email ('not-an-email'): Enter a valid email address.",
        "line 5, column email_opt_in ('maybe'): Use true or false.",
        "line 6, column birthday ('01/02/1980'): Use a date as YYYY-MM-DD.",
    ]
    assert (report.rows, report.created, report.updated) == (5, 2, 0)
    zoe = Customer.objects.get(reference="C-1")
    assert zoe.last_name == "Åberg; the elder"
    assert sorted(zoe.tags.values_list("name", flat=True)) == ["Local", "VIP"]
    assert zoe.email_opt_in
    assert ConsentChange.objects.get(customer=zoe).source == "import"
    assert not Customer.objects.filter(reference__in=["C-2", "C-3", "C-4"]).exists()


def test_reimporting_the_same_customers_changes_nothing():
    CustomerImporter().run(csv_bytes(CUSTOMERS))
    before = list(Customer.objects.order_by("pk").values())
    report = CustomerImporter().run(csv_bytes(CUSTOMERS))
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert list(Customer.objects.order_by("pk").values()) == before


def test_rows_match_by_reference_then_email_in_any_case():
    by_email = CustomerFactory(email="ann@example.com", reference="")
    text = "reference,email,first_name\nA-9,ANN@example.com,Annie\n"
    report = CustomerImporter().run(csv_bytes(text))
    assert (report.created, report.updated) == (0, 1)
    by_email.refresh_from_db()
    assert (by_email.first_name, by_email.reference) == ("Annie", "A-9")


def test_dry_run_reports_what_would_happen_and_writes_nothing():
    report = CustomerImporter(dry_run=True).run(csv_bytes(CUSTOMERS))
    assert (report.created, len(report.rejected)) == (2, 3)
    assert "would be created" in report.summary()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("reference,colour\nC-1,red\n", "Line 1 names unknown columns: colour."),
        ("first_name\nAnn\n", "needs a reference or an email column"),
        ("email,email\na@example.com,b@example.com\n", "Line 1 repeats columns"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(text, message):
    with pytest.raises(CsvFileError, match=message):
        CustomerImporter().run(csv_bytes(text))
    assert not Customer.objects.exists()


def test_another_encoding_is_refused_naming_the_line_and_nothing_is_written():
    good = "".join(f"R-{n},r{n}@example.com\n" for n in range(1, 50))
    latin1 = "R-99,zoë@example.com\n".encode("latin-1")
    stream = io.BytesIO(("reference,email\n" + good).encode() + latin1)
    with pytest.raises(CsvFileError, match="Line 51 is not UTF-8"):
        CustomerImporter().run(stream)
    assert not Customer.objects.exists()


def test_a_row_with_the_wrong_number_of_values_is_rejected():
    report = CustomerImporter().run(csv_bytes("reference,email\nA-1\n"))
    assert [str(p) for p in report.rejected] == [
        "line 2: The row has 1 values for 2 columns."
    ]


PURCHASES = (
    "customer,occurred_at,amount,reference,channel\n"
    "C-1,2024-05-01,12.50,ORD-1,shop\n"
    "zoe@example.com,2024-05-02T14:30:00+02:00,20.00,,online\n"
    'C-1,2024-05-03,"12,50",ORD-3,shop\n'
    "C-404,2024-05-04,5.00,ORD-4,shop\n"
    "C-1,03.05.2024,5.00,ORD-5,shop\n"
    "C-1,2099-01-01,5.00,ORD-6,shop\n"
)


@pytest.mark.parametrize("row_by_row", [True, False], ids=["row-by-row", "set-wise"])
def test_purchases_are_recorded_with_running_figures_and_rows_are_checked(
    row_by_row,
):
    zoe = CustomerFactory(reference="C-1", email="zoe@example.com")
    recorded = []

    def one(purchase, **kwargs):
        recorded.append(purchase.pk)

    def many(purchase_ids, **kwargs):
        recorded.extend(purchase_ids)

    purchase_recorded.connect(one, dispatch_uid="test-import")
    purchases_bulk_recorded.connect(many, dispatch_uid="test-import-bulk")
    try:
        report = PurchaseImporter(row_by_row=row_by_row).run(csv_bytes(PURCHASES))
    finally:
        purchase_recorded.disconnect(dispatch_uid="test-import")
        purchases_bulk_recorded.disconnect(dispatch_uid="test-import-bulk")
    assert [str(p) for p in report.rejected] == [
        "line 4, column amount ('12,50'): Use a dot for decimals, without separators.",
        "line 5, column customer ('C-404'): No customer has this reference or email "
        "(import customers first, or let the import create missing "
        "customers).",
        "line 6, column occurred_at ('03.05.2024'): Use YYYY-MM-DD or an ISO "
        "date-time (2024-05-01T14:30).",
        "line 7, column occurred_at ('2099-01-01'): A purchase cannot be dated in "
        "the future.",
    ]
    zoe.refresh_from_db()
    assert (zoe.orders_count, zoe.total_spent) == (2, Decimal("32.50"))
    assert sorted(recorded) == sorted(zoe.purchases.values_list("pk", flat=True))
    assert len(recorded) == 2
    first = Purchase.objects.get(reference="ORD-1")
    assert timezone.localtime(first.occurred_at).hour == 0  # a date: that day


def test_reimporting_purchases_creates_nothing_with_or_without_a_reference():
    CustomerFactory(reference="C-1", email="zoe@example.com")
    PurchaseImporter().run(csv_bytes(PURCHASES))
    report = PurchaseImporter().run(csv_bytes(PURCHASES))
    assert (report.created, report.unchanged) == (0, 2)
    assert Purchase.objects.count() == 2
    assert Customer.objects.get(reference="C-1").orders_count == 2


def test_create_missing_makes_the_customer_with_that_reference():
    text = (
        "customer,occurred_at,amount\n"
        "NEW-1,2024-01-01,9.99\n"
        "new@example.com,2024-01-02,1.00\n"
    )
    report = PurchaseImporter(create_missing=True).run(csv_bytes(text))
    assert report.ok and report.created == 2
    assert Customer.objects.get(reference="NEW-1").total_spent == Decimal("9.99")
    assert Customer.objects.get(email="new@example.com").orders_count == 1


def test_a_reference_already_used_by_another_customer_is_rejected():
    CustomerFactory(reference="C-1")
    other = CustomerFactory(reference="C-2")
    PurchaseImporter().run(
        csv_bytes("customer,occurred_at,amount,reference\nC-2,2024-01-01,5.00,ORD-1\n")
    )
    report = PurchaseImporter().run(
        csv_bytes("customer,occurred_at,amount,reference\nC-1,2024-01-01,5.00,ORD-1\n")
    )
    assert report.rejected[0].column == "reference"
    assert Purchase.objects.get(reference="ORD-1").customer == other


def test_import_commands_exit_non_zero_when_a_row_is_rejected(tmp_path, capsys):
    CustomerFactory(reference="C-1", email="zoe@example.com")
    path = tmp_path / "purchases.csv"
    path.write_text(PURCHASES, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("import_purchases", str(path))
    assert error.value.returncode == 1
    assert "line 4, column amount" in capsys.readouterr().err

    good = tmp_path / "good.csv"
    good.write_text("customer,occurred_at,amount\nC-1,2024-02-01,3.00\n")
    call_command("import_purchases", str(good))
    assert "1 were created" in capsys.readouterr().out.replace("1 rows: ", "")


def test_import_customers_command_dry_run_writes_nothing(tmp_path, capsys):
    path = tmp_path / "customers.csv"
    path.write_text("reference,email\nA-1,a@example.com\n", encoding="utf-8")
    call_command("import_customers", str(path), "--dry-run")
    assert "1 would be created" in capsys.readouterr().out
    assert not Customer.objects.exists()
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_customers", str(tmp_path / "missing.csv"))
