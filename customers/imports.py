"""CSV import of customers and purchases: one code path for commands and uploads.

The file is read line by line (memory stays flat), every row is checked, and each
accepted row is written through the services in its own transaction, so a bad row
never leaves half a customer behind. A dry run does the same work inside one
transaction that is rolled back, so its report is exactly what a real run would do.
The formats are in the design notes (CSV formats); errors name line and column.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import services
from .models import Customer, Purchase, Tag

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
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0", ""}


class CsvFileError(Exception):
    """The file as a whole cannot be read: nothing was imported."""


class RowError(Exception):
    def __init__(self, column: str, value: str, message: str) -> None:
        super().__init__(message)
        self.column, self.value, self.message = column, value, message


@dataclass
class Problem:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        value = f" ({self.value!r})" if self.value else ""
        return f"{where}{value}: {self.message}"


@dataclass
class ImportReport:
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Problem] = field(default_factory=list)
    more_rejected: int = 0  # rejected rows not kept in ``rejected`` (a stored job)

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


def decoded_lines(stream: IO[bytes]) -> Iterator[str]:
    """UTF-8 lines (a BOM is dropped); another encoding is refused naming the line."""
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CsvFileError(
                f"Line {number} is not UTF-8 text. Save the file as "
                "'CSV UTF-8' and import it again; nothing was imported."
            ) from None


def read_records(
    stream: IO[bytes], allowed: set[str], required: Callable[[set[str]], str | None]
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The checked header, and (line number, stripped values) per non-blank record.

    A record with the wrong number of values is yielded as it is: the caller
    reports it (read_rows turns it into a "__width__" row).
    """
    lines = decoded_lines(stream)
    header_line = next(lines, "")
    if not header_line.strip():
        raise CsvFileError("The file is empty: the first line must name the columns.")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(_chain(header_line, lines), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as error:
        raise CsvFileError(f"Line 1 is not valid CSV: {error}.") from None
    unknown = [name for name in header if name not in allowed]
    if unknown:
        raise CsvFileError(
            f"Line 1 names unknown columns: {', '.join(unknown)}. "
            f"The columns are: {', '.join(sorted(allowed))}."
        )
    duplicated = {name for name in header if header.count(name) > 1}
    if duplicated:
        raise CsvFileError(f"Line 1 repeats columns: {', '.join(sorted(duplicated))}.")
    missing = required(set(header))
    if missing:
        raise CsvFileError(f"Line 1: {missing}")

    def records() -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise CsvFileError(
                    f"Line {reader.line_num} is not valid CSV: {error}."
                ) from None
            values = [value.strip() for value in values]
            if any(values):
                yield reader.line_num, values

    return header, records()


def read_rows(
    stream: IO[bytes], allowed: set[str], required: Callable[[set[str]], str | None]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each non-blank record, after checking the header."""
    header, records = read_records(stream, allowed, required)
    width = len(header)
    for line, values in records:
        if len(values) != width:
            yield line, {"__width__": f"{len(values)} values for {width} columns"}
            continue
        yield line, dict(zip(header, values, strict=True))


def count_lines(stream: IO[bytes]) -> int:
    """Lines in the file, fast (an estimate of its rows, for a progress bar)."""
    lines = sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 20), b""))
    stream.seek(0)
    return lines


def _chain(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest


def parse_bool(column: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise RowError(column, value, "Use true or false.")


def parse_date(column: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError(column, value, "Use a date as YYYY-MM-DD.") from None


def parse_moment(column: str, value: str) -> datetime:
    """A date (that day, 00:00 in the business time zone) or an ISO date-time."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return timezone.make_aware(datetime.combine(day, time.min))
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise RowError(
            column, value, "Use YYYY-MM-DD or an ISO date-time (2024-05-01T14:30)."
        )
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def parse_amount(column: str, value: str) -> Decimal:
    if "," in value:
        raise RowError(column, value, "Use a dot for decimals, without separators.")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(column, value, "Enter an amount such as 12.50.") from None
    if not amount.is_finite() or amount < 0:
        raise RowError(column, value, "Enter an amount of 0 or more.")
    return amount


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

    def __init__(self, *, by=None, dry_run: bool = False) -> None:
        self.by = by
        self.report = ImportReport(dry_run=dry_run)

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
        return sum(1 for _ in read_rows(stream, self.columns, self.required))

    def _apply_all(self, stream, progress) -> None:
        for line, row in read_rows(stream, self.columns, self.required):
            self.report.rows += 1
            if progress is not None:
                progress(self.report.rows)
            try:
                if "__width__" in row:
                    raise RowError("", "", f"The row has {row['__width__']}.")
                with transaction.atomic():
                    outcome = self.apply(row)
            except RowError as error:
                self.report.rejected.append(
                    Problem(line, error.column, error.value, error.message)
                )
                continue
            except ValidationError as error:
                problem = _service_error(error, row)
                self.report.rejected.append(
                    Problem(line, problem.column, problem.value, problem.message)
                )
                continue
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)

    def apply(self, row: dict[str, str]) -> str:
        """Write one row; returns "created", "updated" or "unchanged"."""
        raise TypeError("Use CustomerImporter or PurchaseImporter.")


class CustomerImporter(Importer):
    columns = CUSTOMER_COLUMNS

    def required(self, header: set[str]) -> str | None:
        if not header & {"reference", "email"}:
            return "a customers file needs a reference or an email column."
        return None

    def apply(self, row: dict[str, str]) -> str:
        reference, email = row.get("reference", ""), row.get("email", "")
        if not reference and not email:
            raise RowError("reference", "", "Give a reference or an email.")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise RowError("email", email, "Enter a valid email address.") from None
        fields: dict[str, Any] = {
            name: row[name]
            for name in ("reference", "first_name", "last_name", "email", "phone")
            if name in row
        }
        if row.get("birthday"):
            fields["birthday"] = parse_date("birthday", row["birthday"])
        for name in ("email_opt_in", "sms_opt_in"):
            if name in row:
                fields[name] = parse_bool(name, row[name])
        if row.get("created_at"):
            fields["created_at"] = parse_moment("created_at", row["created_at"])
        tags = None
        if "tags" in row:
            tags = [self.tag(name) for name in row["tags"].split(";") if name.strip()]

        existing = find_customer(reference=reference, email=email)
        if existing is None:
            services.create_customer(
                by=self.by, tags=tags or (), consent_source="import", **fields
            )
            return "created"
        if self.unchanged(existing, fields, tags):
            return "unchanged"
        # Blank cells do not wipe what the CRM already holds.
        fields = {k: v for k, v in fields.items() if v not in ("", None)}
        services.update_customer(
            customer=existing, by=self.by, tags=tags, consent_source="import", **fields
        )
        return "updated"

    @staticmethod
    def tag(name: str) -> Tag:
        name = name.strip()
        return Tag.objects.filter(name__iexact=name).first() or services.create_tag(
            name=name
        )

    @staticmethod
    def unchanged(customer: Customer, fields: dict, tags: list[Tag] | None) -> bool:
        for name, value in fields.items():
            if value in ("", None):
                continue
            current = getattr(customer, name)
            if name == "email" and current.lower() == str(value).lower():
                continue
            if current != value:
                return False
        return tags is None or {t.pk for t in tags} == set(
            customer.tags.values_list("pk", flat=True)
        )


class PurchaseImporter(Importer):
    columns = PURCHASE_COLUMNS

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
        bulk_purchases.import_purchases_set_wise(
            stream,
            required=self.required,
            create_missing=self.create_missing,
            by=self.by,
            report=self.report,
            progress=progress,
        )

    def required(self, header: set[str]) -> str | None:
        missing = {"customer", "occurred_at", "amount"} - header
        if missing:
            return f"a purchases file needs the columns {', '.join(sorted(missing))}."
        return None

    def apply(self, row: dict[str, str]) -> str:
        who = row["customer"]
        if not who:
            raise RowError("customer", "", "Give the customer's reference or email.")
        occurred_at = parse_moment("occurred_at", row["occurred_at"])
        amount = parse_amount("amount", row["amount"])
        reference = row.get("reference", "")
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
            if "@" in who:
                try:
                    validate_email(who)
                except ValidationError:
                    raise RowError(
                        "customer", who, "Enter a valid email address."
                    ) from None
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
            currency=row.get("currency") or None,
            channel=row.get("channel") or None,
            by=self.by,
        )
        return "created"
