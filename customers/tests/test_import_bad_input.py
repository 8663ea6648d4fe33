"""Bad CSV input is reported line by line and never crashes an import or leaves
half a row behind: NUL bytes, line breaks in one-line fields, offsets PostgreSQL
refuses, absurd dates, future creation dates, headers of thousands of columns,
and arbitrary text in every column (hypothesis)."""

import csv
import io
import string
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.csv_input import CsvFileError
from customers.customer_import import CustomerImporter
from customers.models import ConsentChange, Customer, Purchase, Tag
from customers.purchase_import import PurchaseImporter
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BOTH_PATHS = pytest.mark.parametrize("row_by_row", [False, True], ids=["set", "row"])


def csv_file(header: list[str], rows: list[list[str]]) -> io.BytesIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode("utf-8", "surrogatepass"))


def snapshot() -> tuple:
    return (
        list(Customer.objects.order_by("pk").values()),
        list(Purchase.objects.order_by("pk").values()),
        list(Tag.objects.order_by("pk").values()),
        ConsentChange.objects.count(),
    )


def test_a_nul_byte_in_a_customers_cell_rejects_that_row_only():
    report = CustomerImporter().run(
        csv_file(
            ["reference", "first_name"],
            [["C-1", "Ann\0"], ["C-2", "Bob"]],
        )
    )
    assert [(p.line, p.column) for p in report.rejected] == [(2, "first_name")]
    assert "NUL" in report.rejected[0].message
    assert "\0" not in str(report.rejected[0])
    assert list(Customer.objects.values_list("reference", flat=True)) == ["C-2"]


@BOTH_PATHS
def test_a_nul_byte_in_a_purchases_cell_rejects_that_row_only(row_by_row):
    CustomerFactory(reference="C-1")
    report = PurchaseImporter(row_by_row=row_by_row).run(
        csv_file(
            ["customer", "occurred_at", "amount", "reference"],
            [
                ["C-1", "2024-05-01", "10.00", "A\0B"],
                ["C-1", "2024-05-02", "11.00", "ok-1"],
            ],
        )
    )
    assert [(p.line, p.column) for p in report.rejected] == [(2, "reference")]
    assert list(Purchase.objects.values_list("reference", flat=True)) == ["ok-1"]


@BOTH_PATHS
@pytest.mark.parametrize("column", ["reference", "channel"])
def test_line_breaks_in_a_purchase_reference_or_channel_are_refused(row_by_row, column):
    CustomerFactory(reference="C-1")
    row = {"customer": "C-1", "occurred_at": "2024-05-01", "amount": "5.00"}
    row[column] = "line one\nline two"
    report = PurchaseImporter(row_by_row=row_by_row).run(
        csv_file(list(row), [list(row.values())])
    )
    assert [(p.line, p.column) for p in report.rejected] == [(2, column)]
    assert not Purchase.objects.exists()


@BOTH_PATHS
@pytest.mark.parametrize(
    "moment",
    [
        "2024-05-01T10:00+16:00",
        "2024-05-01T10:00-23:59",
        "0001-01-01",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31",
        "9999-12-31T23:59:59-15:00",
    ],
)
def test_moments_postgresql_or_common_sense_refuse_are_reported(row_by_row, moment):
    CustomerFactory(reference="C-1")
    report = PurchaseImporter(row_by_row=row_by_row).run(
        csv_file(["customer", "occurred_at", "amount"], [["C-1", moment, "5.00"]])
    )
    assert [(p.line, p.column) for p in report.rejected] == [(2, "occurred_at")]
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("created_at", "2999-01-01"),
        ("created_at", "9999-12-31T23:59:59+00:00"),
        ("created_at", "0001-01-01"),
        ("created_at", "2024-01-01T00:00+16:00"),
        ("birthday", "0001-01-01"),
        ("birthday", "9999-12-31"),
    ],
)
def test_customer_dates_in_the_far_future_or_past_are_refused(column, value):
    report = CustomerImporter().run(csv_file(["reference", column], [["C-1", value]]))
    assert [(p.line, p.column) for p in report.rejected] == [(2, column)]
    assert not Customer.objects.exists()


def test_a_header_of_thousands_of_columns_gives_a_short_error():
    header = ",".join(f"col{n}" for n in range(20_000))
    with pytest.raises(CsvFileError) as error:
        CustomerImporter().run(io.BytesIO(f"reference,{header}\n".encode()))
    message = str(error.value)
    assert len(message) < 600
    assert "col0" in message and "19995 more" in message


def test_the_upload_of_a_broken_file_shows_its_report_not_an_error(owner_client):
    upload = SimpleUploadedFile(
        "c.csv", b"reference,first_name\nC-1,A\x00nn\nC-2,Bob\n", "text/csv"
    )
    response = owner_client.post(
        "/customers/import/", {"kind": "customers", "file": upload}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "NUL" in page and "Rejected rows" in page
    assert not Customer.objects.exists()  # a preview writes nothing


CUSTOMER_COLUMNS = [
    "reference",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "tags",
    "email_opt_in",
    "sms_opt_in",
    "created_at",
]
PURCHASE_COLUMNS = ["customer", "occurred_at", "amount", "reference", "currency"]
# Arbitrary text: any code point (surrogates cannot be in a UTF-8 file), with
# the characters that break CSV, SQL and headers made likely.
cells = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(list("\0\n\r\t\"',;=+-@'") + ["\u2028", "\ufeff"]),
        st.sampled_from(list(string.digits + "-:T+")),
    ),
    max_size=40,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(column=st.sampled_from(CUSTOMER_COLUMNS), value=cells)
def test_any_text_in_any_customers_column_is_imported_or_reported(column, value):
    with transaction.atomic():
        check_customers_row(column, value)
        transaction.set_rollback(True)  # each example starts afresh


def check_customers_row(column: str, value: str) -> None:
    CustomerFactory(reference="KEEP", email="keep@example.com")
    before = snapshot()
    row = {"reference": "NEW-1", column: value}
    report = CustomerImporter().run(csv_file(list(row), [list(row.values())]))
    if not any(cell.strip() for cell in row.values()):
        assert report.rows == 0 and snapshot() == before  # a blank line
        return
    assert report.rows == 1
    if report.rejected:
        (problem,) = report.rejected
        assert problem.line == 2
        assert problem.message
        assert snapshot() == before  # nothing half written
    else:
        assert report.created + report.updated + report.unchanged == 1


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    column=st.sampled_from(PURCHASE_COLUMNS),
    value=cells,
    row_by_row=st.booleans(),
)
def test_any_text_in_any_purchases_column_is_imported_or_reported(
    column, value, row_by_row
):
    with transaction.atomic():
        check_purchases_row(column, value, row_by_row)
        transaction.set_rollback(True)  # each example starts afresh


def check_purchases_row(column: str, value: str, row_by_row: bool) -> None:
    CustomerFactory(reference="C-1")
    before = snapshot()
    row = {
        "customer": "C-1",
        "occurred_at": "2024-05-01",
        "amount": "9.99",
        "reference": "R-1",
        "currency": "EUR",
    }
    row[column] = value
    report = PurchaseImporter(row_by_row=row_by_row, create_missing=True).run(
        csv_file(list(row), [list(row.values())])
    )
    assert report.rows == 1
    if report.rejected:
        (problem,) = report.rejected
        assert problem.line == 2 and problem.message
        assert snapshot() == before
    else:
        assert report.created + report.unchanged == 1
        # The running figures agree with what was stored (recomputed here).
        for owner in Customer.objects.all():
            amounts = [p.amount for p in owner.purchases.all()]
            assert owner.orders_count == len(amounts)
            assert owner.total_spent == sum(amounts, Decimal("0"))
