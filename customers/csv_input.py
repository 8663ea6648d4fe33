"""Reading a CSV file for the importers: lines, header, cells and their parsers.

Everything here refuses bad input with a message for the report (CsvFileError
for the file as a whole, RowError for one cell) rather than letting it reach
the database: PostgreSQL refuses a NUL character in text and UTC offsets of 16
hours or more, which Python accepts.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .exports import FORMULA_STARTS
from .models.customer import (
    EARLIEST_YEAR,
    TOO_EARLY_MESSAGE,
    UNSAFE_CHARACTER,
    validate_moment,
)

# Explicit values only: a blank cell is no answer (it leaves consent unchanged).
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}
# How many unknown or repeated column names a header error names.
NAMES_SHOWN = 5
# How much of a cell the report shows.
VALUE_SHOWN = 80
NUL_MESSAGE = (
    "The cell holds a NUL character (byte 0), which cannot be stored; "
    "remove it (is this a text CSV file?)."
)


class CsvFileError(Exception):
    """The file as a whole cannot be read: nothing was imported."""


class RowError(Exception):
    def __init__(self, column: str, value: str, message: str) -> None:
        super().__init__(message)
        self.column, self.value, self.message = column, value, message


def shown(value: str, limit: int = VALUE_SHOWN) -> str:
    """A cell as a report shows it: control characters escaped, long text cut.

    Reports are stored (an import job's JSON) and printed: a NUL or a line
    break in them would fail the storing or garble the output. Idempotent.
    """
    text = UNSAFE_CHARACTER.sub(
        lambda match: match.group().encode("unicode_escape").decode("ascii"),
        str(value),
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def some_names(names: list[str]) -> str:
    """The first few names and how many more: a header error stays short."""
    listed = ", ".join(shown(name, 40) for name in names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{listed} and {more} more" if more > 0 else listed


@dataclass
class Problem:
    line: int
    column: str
    value: str
    message: str

    def __post_init__(self) -> None:
        self.value = shown(self.value)

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        value = f" ('{self.value}')" if self.value else ""
        return f"{where}{value}: {self.message}"


def unguard(value: str) -> str:
    """Take off the apostrophe the exports put before a formula-like start.

    exports.neutralise adds one apostrophe to any text that, without its leading
    apostrophes, starts like a formula, so taking one off gives back the stored
    text exactly (a spreadsheet saving "'=x" typed by hand writes "=x" anyway).
    """
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


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
    """The checked header, and (first line, cleaned values) per non-blank record.

    Values are stripped and lose the exports' formula guard. A record with the
    wrong number of values is yielded as it is: the caller reports it.
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
            f"Line 1 names unknown columns: {some_names(unknown)}. "
            f"The columns are: {', '.join(sorted(allowed))}."
        )
    duplicated = sorted(name for name, n in Counter(header).items() if n > 1)
    if duplicated:
        raise CsvFileError(f"Line 1 repeats columns: {some_names(duplicated)}.")
    missing = required(set(header))
    if missing:
        raise CsvFileError(f"Line 1: {missing}")

    def records() -> Iterator[tuple[int, list[str]]]:
        while True:
            # A quoted cell may span lines: the record is named by its first.
            first_line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise CsvFileError(
                    f"Line {reader.line_num} is not valid CSV: {error}."
                ) from None
            values = [
                unguard(value) if value[:1] == "'" else value
                for value in map(str.strip, values)
            ]
            if any(values):
                yield first_line, values

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


def check_cells(header: Iterable[str], values: Iterable[str]) -> None:
    """Refuse a NUL character in any cell (PostgreSQL cannot store it)."""
    for name, value in zip(header, values, strict=False):
        if "\0" in value:
            raise RowError(name, value, NUL_MESSAGE)


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
        day = date.fromisoformat(value)
    except ValueError:
        raise RowError(column, value, "Use a date as YYYY-MM-DD.") from None
    if day.year < EARLIEST_YEAR:
        raise RowError(column, value, TOO_EARLY_MESSAGE)
    return day


def check_moment(column: str, value: str, moment: datetime) -> None:
    """Refuse what PostgreSQL would refuse (the models' validate_moment)."""
    try:
        validate_moment(moment)
    except ValidationError as error:
        raise RowError(column, value, " ".join(error.messages)) from None


def parse_moment(column: str, value: str) -> datetime:
    """A date (that day, 00:00 in the business time zone) or an ISO date-time."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min)
        else:
            moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise RowError(
            column, value, "Use YYYY-MM-DD or an ISO date-time (2024-05-01T14:30)."
        )
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=timezone.get_current_timezone())
    check_moment(column, value, moment)
    return moment


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
