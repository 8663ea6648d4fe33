"""The CSV import engine: one code path for commands, uploads and import jobs.

The file is read line by line (memory stays flat), every row is checked, and each
accepted row is written through the services in its own transaction, so a bad row
never leaves half a customer behind. A dry run does the same work inside one
transaction that is rolled back, so its report is exactly what a real run would do.
The formats are in the design notes (CSV formats); errors name line and column.
Each format's importer subclasses Importer in its own module (customer_import,
purchase_import, interaction_import, loyalty.imports); the rules they share are
in import_rules, the reading of the file in csv_input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import DataError, transaction

from .csv_input import (
    Problem,
    RowError,
    check_cells,
    read_records,
    read_rows,
    shown,
)

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
        raise TypeError("Use the importer of a format (CustomerImporter, ...).")
