"""The purchases CSV format: set-wise on PostgreSQL, row by row elsewhere.

Row by row, each row goes through ``services.record_purchase`` in its own
transaction. On PostgreSQL the whole file is one transaction
(customers/bulk_purchases.py) that decides each row with the same rules
(customers/purchase_rules.py) and writes the outcome set-wise; the tests hold
the two paths to the same report and the same rows.
"""

from __future__ import annotations

from typing import IO

from django.db import DataError
from django.utils import timezone

from . import bulk_purchases, services
from .csv_input import RowError, count_lines, parse_moment
from .import_rules import (
    NO_CUSTOMER,
    PURCHASE_COLUMNS,
    PURCHASE_IGNORED,
    check_customer_key,
    check_not_future,
    check_purchase_text,
    find_customer_by_key,
    new_customer_identity,
    parse_purchase_amount,
)
from .imports import Importer
from .models.customer import FUTURE_TOLERANCE


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
        return bulk_purchases.supported() and not self.row_by_row

    def check_whole_file(self, stream: IO[bytes]) -> int:
        # Set-wise, the file is one transaction: a broken line anywhere rolls
        # back everything, so one reading is enough (lines estimate the rows).
        if self.set_wise():
            return max(count_lines(stream) - 1, 0)
        return super().check_whole_file(stream)

    def _apply_all(self, stream, progress) -> None:
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
        # The checks of bulk_purchase_rows.parsed_rows, in its order.
        who = row["customer"]
        check_customer_key(who, create_missing=False)
        occurred_at = parse_moment("occurred_at", row["occurred_at"])
        amount = parse_purchase_amount("amount", row["amount"])
        check_not_future(
            row["occurred_at"], occurred_at, timezone.now() + FUTURE_TOLERANCE
        )
        reference = row.get("reference", "")
        currency = row.get("currency", "").upper()
        channel = row.get("channel", "")
        check_purchase_text(reference, currency, channel)
        customer = find_customer_by_key(who)
        if customer is None:
            if not self.create_missing:
                raise RowError("customer", who, NO_CUSTOMER)
            check_customer_key(who, create_missing=True)
            # Rolled back with the row if its purchase is refused.
            customer = services.create_customer(
                by=self.by, consent_source="import", **new_customer_identity(who)
            )
        _, created = services.record_purchase(
            customer=customer,
            amount=amount,
            occurred_at=occurred_at,
            reference=reference or None,
            currency=currency or None,
            channel=channel or None,
            by=self.by,
            skip_repeats=True,
        )
        return "created" if created else "unchanged"
