"""Opening balances from CSV, for a business moving an existing program over.

Columns: ``customer`` (a customer's reference or email), ``points`` (a whole
number above 0), ``earned_at`` (YYYY-MM-DD or an ISO date-time), and optional
``expires_at`` (YYYY-MM-DD; empty: the program's expiry rule from earned_at).
Each row is one lot; a customer who is not a member joins (without a welcome
bonus). Reading, checking, the dry run and the report are customers' importer's;
re-importing a file changes nothing (each lot is keyed by customer and dates).
"""

from __future__ import annotations

from customers.csv_input import RowError, parse_date, parse_moment
from customers.import_rules import find_customer_by_key
from customers.imports import Importer

from . import services

OPENING_COLUMNS = {"customer", "points", "earned_at", "expires_at"}


class OpeningBalanceImporter(Importer):
    columns = OPENING_COLUMNS

    def required(self, header: set[str]) -> str | None:
        missing = {"customer", "points", "earned_at"} - header
        if missing:
            return f"an opening balances file needs {', '.join(sorted(missing))}."
        return None

    def apply(self, row: dict[str, str]) -> str:
        who = row["customer"]
        if not who:
            raise RowError("customer", "", "Give the customer's reference or email.")
        customer = find_customer_by_key(who)
        if customer is None:
            raise RowError(
                "customer",
                who,
                "No customer has this reference or email (import customers first).",
            )
        try:
            points = int(row["points"])
        except ValueError:
            raise RowError(
                "points", row["points"], "Enter a whole number of points."
            ) from None
        earned_at = parse_moment("earned_at", row["earned_at"])
        expires_on = (
            parse_date("expires_at", row["expires_at"])
            if row.get("expires_at")
            else None
        )
        _, created = services.import_opening_balance(
            customer=customer,
            points=points,
            earned_at=earned_at,
            expires_on=expires_on,
            by=self.by,
        )
        return "created" if created else "unchanged"
