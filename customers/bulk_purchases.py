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

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
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
    read_records,
)
from .models import Customer, Purchase
from .models.customer import FUTURE_TOLERANCE
from .signals import purchases_bulk_recorded

STAGE = "import_purchase_stage"
CLASSIFIED = "import_purchase_classified"
CREATE_STAGE = f"""
CREATE TEMPORARY TABLE {STAGE} (
    line integer NOT NULL,
    customer_key text NOT NULL,
    occurred_at timestamptz NOT NULL,
    amount numeric(12, 2) NOT NULL,
    reference text NOT NULL,
    currency text NOT NULL,
    channel text NOT NULL
) ON COMMIT DROP
"""
NO_CUSTOMER = (
    "No customer has this reference or email (import customers first, or let "
    "the import create missing customers)."
)
INVALID_EMAIL = "Enter a valid email address."

Row = tuple[int, str, datetime, Decimal, str, str, str]
PROGRESS_EVERY_ROWS = 10_000


def supported() -> bool:
    return connection.vendor == "postgresql"


AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")


def parsed_rows(stream: IO[bytes], required, problems: list[Problem]) -> Iterator[Row]:
    """Each row that passes the checks Python can make; the rest become problems.

    The common case (an ISO date-time, a plain amount) takes a fast path; any
    other value goes through the row-by-row importer's parsers, so the messages
    are the same.
    """
    now = timezone.now() + FUTURE_TOLERANCE
    zone = timezone.get_current_timezone()
    default_currency = settings.DEFAULT_CURRENCY.upper()
    header, records = read_records(stream, PURCHASE_COLUMNS, required)
    width = len(header)
    at = {
        name: header.index(name) if name in header else None
        for name in PURCHASE_COLUMNS
    }
    i_customer, i_moment, i_amount = at["customer"], at["occurred_at"], at["amount"]
    optional = [
        (name, at[name], limit)
        for name, limit in (("reference", 64), ("currency", 3), ("channel", 32))
    ]
    for line, values in records:
        try:
            if len(values) != width:
                raise RowError(
                    "", "", f"The row has {len(values)} values for {width} columns."
                )
            who = values[i_customer]
            if not who:
                raise RowError(
                    "customer", "", "Give the customer's reference or email."
                )
            moment_text = values[i_moment]
            try:
                if len(moment_text) == 10:
                    occurred_at = datetime.combine(
                        date.fromisoformat(moment_text), time.min, tzinfo=zone
                    )
                else:
                    occurred_at = datetime.fromisoformat(moment_text)
                    if occurred_at.tzinfo is None:
                        occurred_at = occurred_at.replace(tzinfo=zone)
            except ValueError:
                occurred_at = parse_moment("occurred_at", moment_text)
            amount_text = values[i_amount]
            if AMOUNT.fullmatch(amount_text):
                amount = Decimal(amount_text)
            else:
                amount = parse_amount("amount", amount_text)
                if amount.as_tuple().exponent < -2 or amount >= Decimal("1e10"):
                    raise RowError(
                        "amount", amount_text, "Use at most 10 digits and 2 decimals."
                    )
            if occurred_at > now:
                raise RowError(
                    "occurred_at",
                    moment_text,
                    "A purchase cannot be dated in the future.",
                )
            reference, currency, channel = (
                values[index] if index is not None else "" for _, index, _ in optional
            )
            currency = currency.upper() or default_currency
            for (column, _, limit), value in zip(
                optional, (reference, currency, channel), strict=True
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

    The rows stream into a staging table through one COPY. Each later step
    builds a new table from the last (CREATE TABLE AS is far cheaper than
    updating a million staged rows), and the customers are updated once each,
    however many purchases they have.
    """
    copied = 0
    with connection.cursor() as cursor:
        # Sorts and hashes of a whole file: in memory, not in batches on disk.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # Compiling these few big statements costs more than it saves.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(CREATE_STAGE)
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
        invalid = _match_customers(cursor, create_missing=create_missing)
        _classify(cursor, invalid)
        new_ids = _insert_purchases(cursor, by)
        _add_to_running_figures(cursor)
        cursor.execute(
            f"SELECT line, customer_key, reference, status FROM {CLASSIFIED} "
            "WHERE status NOT IN ('new', 'unchanged') ORDER BY line"
        )
        problems = [_problem(*values) for values in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM {CLASSIFIED} WHERE status = 'unchanged'")
        unchanged = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {STAGE}, {CLASSIFIED}, import_purchase_matched")
    if new_ids:
        purchases_bulk_recorded.send(sender=Purchase, purchase_ids=new_ids, by=by)
    return {"created": len(new_ids), "unchanged": unchanged, "problems": problems}


def _problem(line: int, key: str, reference: str, status: str) -> Problem:
    if status == "conflict":
        return Problem(
            line,
            "reference",
            reference,
            f"Reference {reference} is already used by another purchase.",
        )
    message = INVALID_EMAIL if status == "invalid_email" else NO_CUSTOMER
    return Problem(line, "customer", key, message)


def _match_customers(cursor, *, create_missing: bool) -> list[str]:
    """By reference first, then by email in any letter case (as find_customer).

    Returns the keys that look like emails but are not valid ones (create_missing
    cannot make customers of them).
    """
    matched = f"""
        CREATE TEMPORARY TABLE import_purchase_matched ON COMMIT DROP AS
        SELECT s.*, coalesce(r.id, e.id) AS customer_id
        FROM {STAGE} s
        LEFT JOIN customers_customer r
          ON r.reference = s.customer_key AND r.reference <> ''
        LEFT JOIN customers_customer e
          ON r.id IS NULL AND position('@' in s.customer_key) > 0
          AND lower(e.email) = lower(s.customer_key) AND e.email <> ''
    """
    cursor.execute(matched)
    cursor.execute("ANALYZE import_purchase_matched")
    if not create_missing:
        return []
    cursor.execute(
        "SELECT DISTINCT ON (lower(customer_key)) customer_key "
        "FROM import_purchase_matched WHERE customer_id IS NULL "
        "ORDER BY lower(customer_key), line"
    )
    new, invalid = [], []
    for (key,) in cursor.fetchall():
        if "@" in key:
            try:
                validate_email(key)
            except ValidationError:
                invalid.append(key)
                continue
            customer = Customer(email=key)
        else:
            customer = Customer(reference=key)
        customer.search_text = customer.build_search_text()
        new.append(customer)
    if new:
        Customer.objects.bulk_create(new, batch_size=5000)
        cursor.execute("DROP TABLE import_purchase_matched")
        cursor.execute(matched)
        cursor.execute("ANALYZE import_purchase_matched")
    return invalid


def _classify(cursor, invalid: list[str]) -> None:
    """Each row's fate, as the row-by-row importer would decide it in file order.

    - no customer (or, under create_missing, a key that is not a valid email);
    - a reference already stored: unchanged if it is the same customer's purchase
      of the same amount, else a conflict (as record_purchase decides);
    - a reference repeated in the file: the first row is the purchase, the rest
      are unchanged or conflicts by the same rule;
    - no reference: the same customer, moment and amount as a stored purchase,
      or as an earlier row of the file that is being stored, is unchanged.
    """
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {CLASSIFIED} ON COMMIT DROP AS
        WITH firsts AS (
            SELECT DISTINCT ON (m.reference) m.reference, m.line AS first_line,
                   m.customer_id AS first_customer, m.amount AS first_amount
            FROM import_purchase_matched m
            WHERE m.reference <> '' AND m.customer_id IS NOT NULL
              AND NOT EXISTS (
                  SELECT 1 FROM customers_purchase p
                  WHERE p.reference <> '' AND p.reference = m.reference
              )
            ORDER BY m.reference, m.line
        ),
        decided AS (
            SELECT m.*,
              CASE
                WHEN m.customer_id IS NULL AND m.customer_key = ANY(%s)
                  THEN 'invalid_email'
                WHEN m.customer_id IS NULL THEN 'no_customer'
                WHEN p.id IS NOT NULL THEN
                  CASE WHEN p.customer_id = m.customer_id AND p.amount = m.amount
                       THEN 'unchanged' ELSE 'conflict' END
                WHEN f.first_line < m.line THEN
                  CASE WHEN f.first_customer = m.customer_id
                        AND f.first_amount = m.amount
                       THEN 'unchanged' ELSE 'conflict' END
                WHEN m.reference = '' AND stored.found THEN 'unchanged'
                ELSE 'new'
              END AS decided
            FROM import_purchase_matched m
            LEFT JOIN customers_purchase p
              -- Both sides non-blank: '' = '' would pair every purchase without
              -- a reference with every such row (and the unique index on
              -- reference only covers non-blank ones).
              ON m.reference <> '' AND p.reference <> ''
              AND p.reference = m.reference
            LEFT JOIN firsts f ON f.reference = m.reference
            LEFT JOIN LATERAL (
                SELECT true AS found FROM customers_purchase q
                WHERE m.reference = '' AND q.customer_id = m.customer_id
                  AND q.occurred_at = m.occurred_at AND q.amount = m.amount
                LIMIT 1
            ) stored ON true
        )
        SELECT line, customer_key, occurred_at, amount, reference, currency,
          channel, customer_id,
          CASE WHEN decided = 'new' AND reference = '' AND line > min(line)
                    FILTER (WHERE decided = 'new')
                    OVER (PARTITION BY customer_id, occurred_at, amount)
               THEN 'unchanged' ELSE decided END AS status
        FROM decided
        """,
        [invalid],
    )


def _insert_purchases(cursor, by) -> list[int]:
    # In customer order: each customer's index pages and foreign-key lookups are
    # touched together rather than all over the table.
    cursor.execute(
        f"""
        INSERT INTO customers_purchase (customer_id, occurred_at, amount, currency,
            reference, channel, refunded_amount, by_id, created_at)
        SELECT customer_id, occurred_at, amount, currency, reference, channel, 0,
            %s, statement_timestamp()
        FROM {CLASSIFIED} WHERE status = 'new' ORDER BY customer_id, occurred_at
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
            FROM {CLASSIFIED} WHERE status = 'new' GROUP BY customer_id
            ORDER BY customer_id
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
