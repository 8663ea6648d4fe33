"""The set-wise purchase import for PostgreSQL: COPY into a staging table, then SQL.

Row by row, a purchase import costs a few queries per row (lock the customer,
look for the reference, insert, update the figures): a few hundred rows a
second. Here the rows are parsed and checked in Python (bulk_purchase_rows.py),
copied into a temporary table, and matched, de-duplicated, inserted and added to
the running figures with a handful of statements, whatever the file's size. The
outcome is the row-by-row importer's, row for row (the tests compare the two):
the same rows are created, unchanged or rejected, with the same messages.

The whole file is one transaction, so each customer's running figures are
updated once (an UPDATE of a customer rewrites every index on the row, the
trigram one included: with a transaction per chunk of rows, that was most of
the time). Receivers of
``purchases_bulk_recorded`` (loyalty's earning) get the new purchase ids inside
that transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO, Any

from django.db import connection, transaction

from .bulk_purchase_rows import Row, parsed_rows
from .imports import Problem, new_customer_key_problem
from .models import Customer, Purchase
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

PROGRESS_EVERY_ROWS = 10_000


def supported() -> bool:
    return connection.vendor == "postgresql"


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
        _classify(cursor, list(invalid))
        _lock_customers_in_order(cursor)
        new_ids = _insert_purchases(cursor, by)
        _add_to_running_figures(cursor)
        cursor.execute(
            f"SELECT line, customer_key, reference, status FROM {CLASSIFIED} "
            "WHERE status NOT IN ('new', 'unchanged') ORDER BY line"
        )
        problems = [_problem(*values, invalid) for values in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM {CLASSIFIED} WHERE status = 'unchanged'")
        unchanged = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {STAGE}, {CLASSIFIED}, import_purchase_matched")
    if new_ids:
        purchases_bulk_recorded.send(sender=Purchase, purchase_ids=new_ids, by=by)
    return {"created": len(new_ids), "unchanged": unchanged, "problems": problems}


def _problem(
    line: int, key: str, reference: str, status: str, invalid: dict[str, str]
) -> Problem:
    if status == "conflict":
        return Problem(
            line,
            "reference",
            reference,
            f"Reference {reference} is already used by another purchase.",
        )
    message = invalid[key] if status == "invalid_email" else NO_CUSTOMER
    return Problem(line, "customer", key, message)


def _match_customers(cursor, *, create_missing: bool) -> dict[str, str]:
    """By reference first, then by email in any letter case (as find_customer).

    Returns the keys create_missing cannot make customers of (an invalid email,
    a key too long), each with the reason.
    """
    matched = f"""
        CREATE TEMPORARY TABLE import_purchase_matched ON COMMIT DROP AS
        SELECT s.*, coalesce(r.id, e.id) AS customer_id
        FROM {STAGE} s
        LEFT JOIN customers_customer r
          ON r.reference = s.customer_key AND r.reference <> ''
        -- The CASE spares lower() for every key that matched a reference.
        LEFT JOIN customers_customer e
          ON lower(e.email) = CASE
               WHEN r.id IS NULL AND position('@' in s.customer_key) > 0
               THEN lower(s.customer_key) END
          AND e.email <> ''
    """
    cursor.execute(matched)
    cursor.execute("ANALYZE import_purchase_matched")
    if not create_missing:
        return {}
    cursor.execute(
        "SELECT DISTINCT ON (lower(customer_key)) customer_key "
        "FROM import_purchase_matched WHERE customer_id IS NULL "
        "ORDER BY lower(customer_key), line"
    )
    new, invalid = [], {}
    for (key,) in cursor.fetchall():
        problem = new_customer_key_problem(key)
        if problem:
            invalid[key] = problem
            continue
        customer = Customer(email=key) if "@" in key else Customer(reference=key)
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

    Rows with and without a reference are decided apart: each kind is sorted or
    hashed on its own keys only (one sort of a million rows by reference, no
    second sort of them all by customer, moment and amount).
    """
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {CLASSIFIED} ON COMMIT DROP AS
        WITH referenced AS (
            SELECT r.line, r.customer_key, r.occurred_at, r.amount, r.reference,
              r.currency, r.channel, r.customer_id,
              CASE
                WHEN p.id IS NOT NULL THEN
                  CASE WHEN p.customer_id = r.customer_id AND p.amount = r.amount
                       THEN 'unchanged' ELSE 'conflict' END
                WHEN r.first_line < r.line THEN
                  CASE WHEN r.first_customer = r.customer_id
                        AND r.first_amount = r.amount
                       THEN 'unchanged' ELSE 'conflict' END
                ELSE 'new'
              END AS status
            FROM (
                SELECT m.*, first_value(m.line) OVER w AS first_line,
                  first_value(m.customer_id) OVER w AS first_customer,
                  first_value(m.amount) OVER w AS first_amount
                FROM import_purchase_matched m
                WHERE m.reference <> '' AND m.customer_id IS NOT NULL
                WINDOW w AS (PARTITION BY m.reference ORDER BY m.line)
            ) r
            -- Both sides non-blank: the unique index on reference only covers
            -- non-blank ones.
            LEFT JOIN customers_purchase p
              ON p.reference <> '' AND p.reference = r.reference
        ),
        blank AS (
            SELECT m.*, EXISTS (
                SELECT 1 FROM customers_purchase q
                WHERE q.customer_id = m.customer_id
                  AND q.occurred_at = m.occurred_at AND q.amount = m.amount
              ) AS stored
            FROM import_purchase_matched m
            WHERE m.reference = '' AND m.customer_id IS NOT NULL
        ),
        -- Per customer, moment and amount of a row without a reference: the
        -- first line of the file that stores such a purchase, with or without
        -- a reference.
        earliest AS (
            SELECT customer_id, occurred_at, amount, min(line) AS line
            FROM (
                SELECT customer_id, occurred_at, amount, line
                FROM blank WHERE NOT stored
                UNION ALL
                SELECT customer_id, occurred_at, amount, line
                FROM referenced
                WHERE status = 'new' AND (customer_id, occurred_at, amount) IN (
                    SELECT customer_id, occurred_at, amount
                    FROM blank WHERE NOT stored
                )
            ) stored_by_the_file
            GROUP BY customer_id, occurred_at, amount
        )
        SELECT * FROM referenced
        UNION ALL
        SELECT b.line, b.customer_key, b.occurred_at, b.amount, b.reference,
          b.currency, b.channel, b.customer_id,
          CASE WHEN b.stored OR e.line < b.line THEN 'unchanged' ELSE 'new' END
        FROM blank b
        LEFT JOIN earliest e
          ON NOT b.stored AND e.customer_id = b.customer_id
          AND e.occurred_at = b.occurred_at AND e.amount = b.amount
        UNION ALL
        SELECT line, customer_key, occurred_at, amount, reference, currency,
          channel, customer_id,
          CASE WHEN customer_key = ANY(%s) THEN 'invalid_email'
               ELSE 'no_customer' END
        FROM import_purchase_matched WHERE customer_id IS NULL
        """,
        [invalid],
    )


def _lock_customers_in_order(cursor) -> None:
    """The file's customers locked in id order first (customers.locking).

    The UPDATE of their figures below would lock them too, but in whatever
    order its plan visits them, against a typed purchase locking one of them.
    """
    cursor.execute(
        f"""
        SELECT 1 FROM customers_customer
        WHERE id IN (SELECT customer_id FROM {CLASSIFIED} WHERE status = 'new')
        ORDER BY id FOR NO KEY UPDATE
        """
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
    allowed: set[str],
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
            parsed_rows(stream, required, parse_problems, allowed),
            create_missing=create_missing,
            by=by,
            progress=progress,
        )
    problems = sorted(outcome["problems"] + parse_problems, key=lambda p: p.line)
    report.created += outcome["created"]
    report.unchanged += outcome["unchanged"]
    report.rows += report.created + report.unchanged + len(problems)
    report.rejected.extend(problems)
