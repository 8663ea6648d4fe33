"""The set-wise purchase import for PostgreSQL: COPY into a staging table, then SQL.

Row by row, a purchase import costs a few queries per row (lock the customer,
look for the reference, insert, update the figures): a few hundred rows a
second. Here the rows are parsed and checked in Python, copied into a
temporary table, and matched, de-duplicated, inserted and added to the running
figures with a handful of statements, whatever the file's size. The outcome is
the row-by-row importer's, row for row (the tests compare the two): the same
rows are created, unchanged or rejected, with the same messages.

The whole file is one transaction, so each customer's running figures are
updated once (an UPDATE of a customer rewrites every index on the row, the
trigram one included: with a transaction per chunk of rows, that was most of
the time). Receivers of
``purchases_bulk_recorded`` (loyalty's earning) get the new purchase ids inside
that transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from .imports import (
    PURCHASE_COLUMNS,
    Problem,
    RowError,
    parse_amount,
    parse_moment,
    read_rows,
)
from .models import Customer, Purchase
from .models.customer import FUTURE_TOLERANCE
from .signals import purchases_bulk_recorded

STAGE = "import_purchase_stage"
# status: new (to insert), unchanged (already stored), rejected (see message).
CREATE_STAGE = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (
    line integer PRIMARY KEY,
    customer_key text NOT NULL,
    occurred_at timestamptz NOT NULL,
    amount numeric(12, 2) NOT NULL,
    reference text NOT NULL,
    currency text NOT NULL,
    channel text NOT NULL,
    customer_id bigint,
    status text NOT NULL DEFAULT 'new',
    message text NOT NULL DEFAULT ''
) ON COMMIT DROP
"""

Row = tuple[int, str, datetime, Decimal, str, str, str]
PROGRESS_EVERY_ROWS = 10_000


def supported() -> bool:
    return connection.vendor == "postgresql"


def parsed_rows(stream: IO[bytes], required, problems: list[Problem]) -> Iterator[Row]:
    """Each row that passes the checks Python can make; the rest become problems."""
    now = timezone.now() + FUTURE_TOLERANCE
    default_currency = settings.DEFAULT_CURRENCY.upper()
    for line, row in read_rows(stream, PURCHASE_COLUMNS, required):
        try:
            if "__width__" in row:
                raise RowError("", "", f"The row has {row['__width__']}.")
            who = row["customer"]
            if not who:
                raise RowError(
                    "customer", "", "Give the customer's reference or email."
                )
            occurred_at = parse_moment("occurred_at", row["occurred_at"])
            amount = parse_amount("amount", row["amount"])
            if amount.as_tuple().exponent < -2 or amount >= Decimal("1e10"):
                raise RowError(
                    "amount", row["amount"], "Use at most 10 digits and 2 decimals."
                )
            if occurred_at > now:
                raise RowError(
                    "occurred_at",
                    row["occurred_at"],
                    "A purchase cannot be dated in the future.",
                )
            reference = row.get("reference", "")
            currency = (row.get("currency") or default_currency).upper()
            channel = row.get("channel", "")
            for column, value, limit in (
                ("reference", reference, 64),
                ("currency", currency, 3),
                ("channel", channel, 32),
            ):
                if len(value) > limit:
                    raise RowError(column, value, f"Use at most {limit} characters.")
        except RowError as error:
            problems.append(Problem(line, error.column, error.value, error.message))
            continue
        yield (line, who, occurred_at, amount, reference, currency, channel)


def import_rows(
    rows: Iterable[Row], *, create_missing: bool, by, progress=None
) -> dict[str, Any]:
    """Apply every row in the caller's transaction; returns counts and problems.

    The rows stream into the staging table through one COPY; the statements
    that follow touch each customer once, however many purchases they have.
    """
    copied = 0
    with connection.cursor() as cursor:
        cursor.execute(CREATE_STAGE)
        cursor.execute(f"TRUNCATE {STAGE}")
        with cursor.cursor.copy(
            f"COPY {STAGE} (line, customer_key, occurred_at, amount, reference, "
            "currency, channel) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
                copied += 1
                if progress is not None and copied % PROGRESS_EVERY_ROWS == 0:
                    progress(copied)
        # A temporary table has no statistics until analysed; without them the
        # planner guesses a handful of rows and picks nested loops.
        cursor.execute(f"ANALYZE {STAGE}")
        _match_customers(cursor)
        if create_missing:
            _create_missing_customers(cursor, by)
            _match_customers(cursor)
        cursor.execute(
            f"""
            UPDATE {STAGE} SET status = 'rejected', message = %s
            WHERE customer_id IS NULL
            """,
            [
                "No customer has this reference or email (import customers first, "
                "or let the import create missing customers)."
            ],
        )
        _mark_known_purchases(cursor)
        new_ids = _insert_purchases(cursor, by)
        _add_to_running_figures(cursor)
        cursor.execute(
            f"SELECT line, customer_key, reference, message FROM {STAGE} "
            "WHERE status = 'rejected' ORDER BY line"
        )
        problems = [
            Problem(
                line,
                "reference" if message.startswith("Reference") else "customer",
                reference if message.startswith("Reference") else key,
                message,
            )
            for line, key, reference, message in cursor.fetchall()
        ]
        cursor.execute(f"SELECT count(*) FROM {STAGE} WHERE status = 'unchanged'")
        unchanged = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {STAGE}")
    if new_ids:
        purchases_bulk_recorded.send(sender=Purchase, purchase_ids=new_ids, by=by)
    return {"created": len(new_ids), "unchanged": unchanged, "problems": problems}


def _match_customers(cursor) -> None:
    """By reference first, then by email in any letter case (as find_customer)."""
    cursor.execute(
        f"""
        UPDATE {STAGE} s SET customer_id = c.id
        FROM customers_customer c
        WHERE s.customer_id IS NULL AND c.reference = s.customer_key
          AND c.reference <> ''
        """
    )
    cursor.execute(
        f"""
        UPDATE {STAGE} s SET customer_id = c.id
        FROM customers_customer c
        WHERE s.customer_id IS NULL AND position('@' in s.customer_key) > 0
          AND lower(c.email) = lower(s.customer_key) AND c.email <> ''
        """
    )


def _create_missing_customers(cursor, by) -> None:
    cursor.execute(
        f"SELECT DISTINCT ON (lower(customer_key)) customer_key, line FROM {STAGE} "
        "WHERE customer_id IS NULL ORDER BY lower(customer_key), line"
    )
    new, invalid = [], []
    for key, _line in cursor.fetchall():
        if "@" in key:
            try:
                validate_email(key)
            except ValidationError:
                invalid.append(key)
                continue
            customer = Customer(email=key, owner=None)
        else:
            customer = Customer(reference=key)
        customer.search_text = customer.build_search_text()
        new.append(customer)
    Customer.objects.bulk_create(new, batch_size=5000)
    if invalid:
        cursor.execute(
            f"""
            UPDATE {STAGE} SET status = 'rejected', message = %s
            WHERE customer_key = ANY(%s)
            """,
            ["Enter a valid email address.", invalid],
        )


def _mark_known_purchases(cursor) -> None:
    """Purchases already stored, or earlier in the file, are not imported again."""
    # A reference already stored: unchanged if it is the same customer's purchase
    # of the same amount, else a conflict (as record_purchase decides).
    cursor.execute(
        f"""
        UPDATE {STAGE} s SET
          status = CASE WHEN p.customer_id = s.customer_id AND p.amount = s.amount
                        THEN 'unchanged' ELSE 'rejected' END,
          message = CASE WHEN p.customer_id = s.customer_id AND p.amount = s.amount
                         THEN ''
                         ELSE 'Reference ' || p.reference
                              || ' is already used by another purchase.' END
        FROM customers_purchase p
        WHERE s.status = 'new' AND s.reference <> '' AND p.reference = s.reference
        """
    )
    # A reference repeated in the file: the first row is the purchase.
    cursor.execute(
        f"""
        UPDATE {STAGE} s SET
          status = CASE WHEN f.customer_id = s.customer_id AND f.amount = s.amount
                        THEN 'unchanged' ELSE 'rejected' END,
          message = CASE WHEN f.customer_id = s.customer_id AND f.amount = s.amount
                         THEN ''
                         ELSE 'Reference ' || s.reference
                              || ' is already used by another purchase.' END
        FROM (
            SELECT DISTINCT ON (reference) reference, line, customer_id, amount
            FROM {STAGE} WHERE status = 'new' AND reference <> ''
            ORDER BY reference, line
        ) f
        WHERE s.status = 'new' AND s.reference = f.reference AND s.line > f.line
        """
    )
    # No reference: the same customer, moment and amount is the same purchase.
    cursor.execute(
        f"""
        UPDATE {STAGE} s SET status = 'unchanged'
        WHERE s.status = 'new' AND s.reference = '' AND EXISTS (
            SELECT 1 FROM customers_purchase p
            WHERE p.customer_id = s.customer_id AND p.occurred_at = s.occurred_at
              AND p.amount = s.amount
        )
        """
    )
    # ... nor one stored earlier in the file, with a reference or without.
    cursor.execute(
        f"""
        UPDATE {STAGE} s SET status = 'unchanged'
        FROM (
            SELECT line, min(line) OVER (
                PARTITION BY customer_id, occurred_at, amount
            ) AS first_line
            FROM {STAGE} WHERE status = 'new'
        ) e
        WHERE s.status = 'new' AND s.reference = '' AND s.line = e.line
          AND e.first_line < s.line
        """
    )


def _insert_purchases(cursor, by) -> list[int]:
    cursor.execute(
        f"""
        INSERT INTO customers_purchase (customer_id, occurred_at, amount, currency,
            reference, channel, refunded_amount, by_id, created_at)
        SELECT customer_id, occurred_at, amount, currency, reference, channel, 0,
            %s, statement_timestamp()
        FROM {STAGE} WHERE status = 'new' ORDER BY line
        RETURNING id
        """,
        [getattr(by, "pk", None)],
    )
    return [pk for (pk,) in cursor.fetchall()]


def _add_to_running_figures(cursor) -> None:
    """One UPDATE for every customer in the file (LEAST/GREATEST skip NULLs)."""
    cursor.execute(
        f"""
        UPDATE customers_customer c SET
          orders_count = c.orders_count + a.orders,
          total_spent = c.total_spent + a.spent,
          first_purchase_at = LEAST(c.first_purchase_at, a.first_at),
          last_purchase_at = GREATEST(c.last_purchase_at, a.last_at),
          updated_at = statement_timestamp()
        FROM (
            SELECT customer_id, count(*) AS orders, sum(amount) AS spent,
                   min(occurred_at) AS first_at, max(occurred_at) AS last_at
            FROM {STAGE} WHERE status = 'new' GROUP BY customer_id
        ) a
        WHERE c.id = a.customer_id
        """
    )


def import_purchases_set_wise(
    stream: IO[bytes],
    *,
    required,
    create_missing: bool,
    by,
    report,
    progress: Callable[[int], Any] | None = None,
) -> None:
    """Apply every row of an already-checked file in one transaction.

    All or nothing: a failure anywhere (the database restarting, say) leaves no
    purchase of the file behind, and importing the file again starts afresh.
    """
    parse_problems: list[Problem] = []
    with transaction.atomic():
        outcome = import_rows(
            parsed_rows(stream, required, parse_problems),
            create_missing=create_missing,
            by=by,
            progress=progress,
        )
    problems = sorted(outcome["problems"] + parse_problems, key=lambda p: p.line)
    report.created += outcome["created"]
    report.unchanged += outcome["unchanged"]
    report.rows += report.created + report.unchanged + len(problems)
    report.rejected.extend(problems)
