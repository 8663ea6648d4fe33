"""CSV import of customers and purchases: one code path for commands and uploads.

The file is read line by line (memory stays flat), every row is checked, and each
accepted row is written through the services in its own transaction, so a bad row
never leaves half a customer behind. A dry run does the same work inside one
transaction that is rolled back, so its report is exactly what a real run would do.
The formats are in the design notes (CSV formats); errors name line and column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DataError, transaction
from django.utils import timezone

from . import services
from .csv_input import (
    FALSE,
    TRUE,
    CsvFileError,
    Problem,
    RowError,
    check_cells,
    count_lines,
    parse_amount,
    parse_bool,
    parse_date,
    parse_moment,
    read_records,
    read_rows,
    shown,
)
from .exports import CUSTOMER_HEADER, PURCHASE_HEADER
from .models import Customer, Purchase
from .models.customer import (
    FUTURE_TOLERANCE,
    UNSAFE_TEXT_MESSAGE,
    has_unsafe_characters,
)

__all__ = [
    "FALSE",
    "TRUE",
    "CsvFileError",
    "Problem",
    "RowError",
    "parse_amount",
    "parse_bool",
    "parse_date",
    "parse_moment",
    "read_records",
    "read_rows",
]

CUSTOMER_COLUMNS = {
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
}
PURCHASE_COLUMNS = {
    "customer",
    "occurred_at",
    "amount",
    "reference",
    "currency",
    "channel",
}
# The exports' other columns (ids, owners, figures the CRM works out itself):
# accepted so that an export imports again unchanged, and ignored, saying so.
CUSTOMER_IGNORED = set(CUSTOMER_HEADER) - CUSTOMER_COLUMNS
PURCHASE_IGNORED = set(PURCHASE_HEADER) - PURCHASE_COLUMNS
# Updated rows whose changes a stored job's report keeps.
CHANGES_KEPT = 1000


@dataclass
class Change:
    """An updated row: which customer, and each field that changes, old → new."""

    line: int
    who: str
    changes: list[str]


@dataclass
class ImportReport:
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Problem] = field(default_factory=list)
    more_rejected: int = 0  # rejected rows not kept in ``rejected`` (a stored job)
    updates: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected_count

    @property
    def rejected_count(self) -> int:
        return len(self.rejected) + self.more_rejected

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (
            f"{self.rows} rows: {self.created} {verb} created, {self.updated} "
            f"{verb} updated, {self.unchanged} unchanged, "
            f"{self.rejected_count} rejected."
        )


def ignored_note(header: list[str], ignored: set[str]) -> list[str]:
    names = [name for name in header if name in ignored]
    if not names:
        return []
    return [
        f"Ignored columns (an import does not set them; the CRM keeps them "
        f"itself): {', '.join(names)}."
    ]


def _service_error(error: ValidationError, row: dict[str, str]) -> RowError:
    """The first message of a service's ValidationError, on its column."""
    if hasattr(error, "error_dict"):
        name, errors = next(iter(error.error_dict.items()))
        column = name if name in row else ""
        return RowError(column, row.get(name, ""), " ".join(errors[0].messages))
    return RowError("", "", " ".join(error.messages))


def find_customer(*, reference: str = "", email: str = "") -> Customer | None:
    """Match by reference first, then by email (any letter case)."""
    if reference:
        found = Customer.objects.filter(reference=reference).first()
        if found is not None:
            return found
    if email:
        return Customer.objects.filter(email__iexact=email).first()
    return None


class Importer:
    """Reads one file and applies its rows; subclasses know the format."""

    columns: set[str] = set()
    # Columns accepted and ignored (an export's read-only figures).
    ignored: set[str] = set()

    def __init__(self, *, by=None, dry_run: bool = False) -> None:
        self.by = by
        self.report = ImportReport(dry_run=dry_run)
        # What apply() changed in the row it just updated (old → new).
        self.changes: list[str] = []

    @property
    def allowed(self) -> set[str]:
        return self.columns | self.ignored

    def required(self, header: set[str]) -> str | None:
        return None

    def run(
        self,
        stream: IO[bytes],
        progress: Callable[[int], Any] | None = None,
        on_total: Callable[[int], Any] | None = None,
    ):
        """Import the file; raises CsvFileError if it cannot be read at all.

        The whole file is read once before anything is written, so a wrong
        encoding or a broken header on line 90,000 leaves the database untouched.
        ``on_total`` hears the number of rows after that first reading;
        ``progress`` the rows done so far, now and then.
        """
        header, _ = read_records(stream, self.allowed, self.required)
        stream.seek(0)
        self.report.notes = ignored_note(header, self.ignored)
        total = self.check_whole_file(stream)
        if on_total is not None:
            on_total(total)
        stream.seek(0)
        if self.report.dry_run:
            with transaction.atomic():
                self._apply_all(stream, progress)
                transaction.set_rollback(True)
        else:
            self._apply_all(stream, progress)
        return self.report

    def check_whole_file(self, stream: IO[bytes]) -> int:
        """Read every line (refusing a broken file) before writing; the row count."""
        return sum(1 for _ in read_rows(stream, self.allowed, self.required))

    def _apply_all(self, stream, progress) -> None:
        for line, row in read_rows(stream, self.allowed, self.required):
            self.report.rows += 1
            if progress is not None:
                progress(self.report.rows)
            self.changes = []
            try:
                if "__width__" in row:
                    raise RowError("", "", f"The row has {row['__width__']}.")
                check_cells(row.keys(), row.values())
                with transaction.atomic():
                    outcome = self.apply(row)
            except RowError as error:
                self.reject(line, error.column, error.value, error.message)
                continue
            except ValidationError as error:
                problem = _service_error(error, row)
                self.reject(line, problem.column, problem.value, problem.message)
                continue
            except DataError as error:
                # The checks above should leave nothing the database refuses;
                # if one slips through, the row is reported, not the file lost.
                message = str(error).splitlines()[0] if str(error) else "refused"
                self.reject(line, "", "", f"The database refused the row: {message}")
                continue
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
            if outcome == "updated" and self.changes:
                self.report.updates.append(
                    Change(
                        line,
                        shown(self.who(row)),
                        [shown(c, 200) for c in self.changes],
                    )
                )

    def reject(self, line: int, column: str, value: str, message: str) -> None:
        self.report.rejected.append(Problem(line, column, value, message))

    def who(self, row: dict[str, str]) -> str:
        """How the report names a row's record."""
        return ""

    def apply(self, row: dict[str, str]) -> str:
        """Write one row; returns "created", "updated" or "unchanged"."""
        raise TypeError("Use CustomerImporter or PurchaseImporter.")


def check_customer_key(who: str, *, create_missing: bool) -> None:
    """The customer column of a purchases row, before it is looked up.

    No stored reference or email holds a line break, and a customer created from
    the key must be one the CRM would accept (its reference or email).
    """
    if not who:
        raise RowError("customer", "", "Give the customer's reference or email.")
    if has_unsafe_characters(who):
        raise RowError("customer", who, UNSAFE_TEXT_MESSAGE)
    if create_missing:
        problem = new_customer_key_problem(who)
        if problem:
            raise RowError("customer", who, problem)


def new_customer_key_problem(who: str) -> str | None:
    """Why a purchases row's key cannot become a new customer, if it cannot."""
    if "@" in who:
        limit = Customer._meta.get_field("email").max_length
        try:
            validate_email(who)
        except ValidationError:
            return "Enter a valid email address."
    else:
        limit = Customer._meta.get_field("reference").max_length
    if len(who) > limit:
        return f"Use at most {limit} characters."
    return None


PURCHASE_TEXT_LIMITS = (("reference", 64), ("currency", 3), ("channel", 32))


def check_purchase_text(reference: str, currency: str, channel: str) -> None:
    """One-line text within the column's length (the set-wise path's checks)."""
    for (column, limit), value in zip(
        PURCHASE_TEXT_LIMITS, (reference, currency, channel), strict=True
    ):
        if has_unsafe_characters(value):
            raise RowError(column, value, UNSAFE_TEXT_MESSAGE)
        if len(value) > limit:
            raise RowError(column, value, f"Use at most {limit} characters.")


class PurchaseImporter(Importer):
    columns = PURCHASE_COLUMNS
    ignored = PURCHASE_IGNORED

    def __init__(
        self, *, create_missing: bool = False, row_by_row: bool = False, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.create_missing = create_missing
        self.row_by_row = row_by_row  # the reference path; tests compare the two

    def set_wise(self) -> bool:
        from . import bulk_purchases

        return bulk_purchases.supported() and not self.row_by_row

    def check_whole_file(self, stream: IO[bytes]) -> int:
        # Set-wise, the file is one transaction: a broken line anywhere rolls
        # back everything, so one reading is enough (lines estimate the rows).
        if self.set_wise():
            return max(count_lines(stream) - 1, 0)
        return super().check_whole_file(stream)

    def _apply_all(self, stream, progress) -> None:
        # On PostgreSQL the whole file goes in set-wise; elsewhere row by row.
        from . import bulk_purchases

        if not self.set_wise():
            return super()._apply_all(stream, progress)
        try:
            bulk_purchases.import_purchases_set_wise(
                stream,
                required=self.required,
                allowed=self.allowed,
                create_missing=self.create_missing,
                by=self.by,
                report=self.report,
                progress=progress,
            )
        except DataError:
            # A value the checks missed made the database refuse the file: its
            # transaction is rolled back, so row by row finds and reports it.
            stream.seek(0)
            super()._apply_all(stream, progress)

    def required(self, header: set[str]) -> str | None:
        missing = {"customer", "occurred_at", "amount"} - header
        if missing:
            return f"a purchases file needs the columns {', '.join(sorted(missing))}."
        return None

    def apply(self, row: dict[str, str]) -> str:
        who = row["customer"]
        check_customer_key(who, create_missing=False)
        occurred_at = parse_moment("occurred_at", row["occurred_at"])
        amount = parse_amount("amount", row["amount"])
        if occurred_at > timezone.now() + FUTURE_TOLERANCE:
            raise RowError(
                "occurred_at",
                row["occurred_at"],
                "A purchase cannot be dated in the future.",
            )
        reference = row.get("reference", "")
        currency = row.get("currency", "").upper()
        check_purchase_text(reference, currency, row.get("channel", ""))
        customer = find_customer(reference=who, email=who if "@" in who else "")
        if customer is None:
            if not self.create_missing:
                raise RowError(
                    "customer",
                    who,
                    "No customer has this reference or email "
                    "(import customers first, or let the import create missing "
                    "customers).",
                )
            check_customer_key(who, create_missing=True)
            identity = {"email": who} if "@" in who else {"reference": who}
            customer = services.create_customer(
                by=self.by, consent_source="import", **identity
            )
        if reference:
            if Purchase.objects.filter(reference=reference).exists():
                services.record_purchase(  # raises if it belongs elsewhere
                    customer=customer,
                    amount=amount,
                    occurred_at=occurred_at,
                    reference=reference,
                )
                return "unchanged"
        elif customer.purchases.filter(occurred_at=occurred_at, amount=amount).exists():
            return "unchanged"
        services.record_purchase(
            customer=customer,
            amount=amount,
            occurred_at=occurred_at,
            reference=reference or None,
            currency=currency or None,
            channel=row.get("channel") or None,
            by=self.by,
        )
        return "created"


# The customers format lives in its own module; importing it here keeps
# ``customers.imports.CustomerImporter`` where commands and tests find it.
from .customer_import import CustomerImporter  # noqa: E402

__all__ += ["CustomerImporter"]
