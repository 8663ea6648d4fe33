"""The statements of the set-wise purchase import (customers/bulk_purchases.py).

Lookups, locks and writes only: no rule of what a purchase is or does lives
here (those are customers/purchase_rules.py and customers/import_rules.py, in
Python, for both import paths). Each lookup takes its keys as one array
parameter per batch, so a file of a million rows costs a few dozen queries.
docs/architecture.md ("SQL that stays, and why") lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import connection
from django.utils import timezone

from .bulk_purchase_rows import (
    AMOUNT,
    CHANNEL,
    CURRENCY,
    MOMENT,
    REFERENCE,
    Row,
)
from .copying import copy_rows, next_ids
from .models import Customer, ErasureRecord, Purchase
from .purchase_rules import RunningFigures

# Keys per lookup query: one array parameter each, whatever the file's size.
LOOKUP_BATCH = 50_000
CUSTOMERS = Customer._meta.db_table
PURCHASES = Purchase._meta.db_table
COPIED = (
    "id",
    "customer_id",
    "occurred_at",
    "amount",
    "currency",
    "reference",
    "channel",
    "refunded_amount",
    "by_id",
    "created_at",
)


def batches(values: Iterable) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]


def fetch(sql: str, values: Iterable, *more: Any) -> list[tuple]:
    """The rows of `sql` run on each batch of `values` (its first parameter)."""
    found: list[tuple] = []
    with connection.cursor() as cursor:
        for batch in batches(values):
            cursor.execute(sql, [batch, *more])
            found.extend(cursor.fetchall())
    return found


def customers_by_reference(keys: Iterable[str]) -> dict[str, int]:
    """reference -> id of the customers whose reference is one of the keys."""
    return dict(
        fetch(
            f"SELECT reference, id FROM {CUSTOMERS} "
            "WHERE reference = ANY(%s) AND reference <> ''",
            keys,
        )
    )


def customers_by_email(keys: Iterable[str]) -> dict[str, int]:
    """key -> id of the customer whose email is the key in any letter case.

    lower() on both sides, as find_customer and the unique index compare.
    """
    return dict(
        fetch(
            "SELECT k.key, c.id FROM unnest(%s::text[]) AS k(key) "
            f"JOIN {CUSTOMERS} c ON lower(c.email) = lower(k.key) "
            "WHERE c.email <> ''",
            keys,
        )
    )


def lowered(keys: Iterable[str]) -> dict[str, str]:
    """key -> the key as the database lower-cases it (emails compare so)."""
    return dict(fetch("SELECT k, lower(k) FROM unnest(%s::text[]) AS k", keys))


def lock_customers(
    customer_ids: set[int],
) -> tuple[dict[int, RunningFigures], set[int]]:
    """Lock the customers in id order (customers.locking, step 1).

    Returns their running figures, read under the lock, and the erased ones.
    A customer merged away since the match is missing from both.
    """
    erasures = ErasureRecord._meta.db_table
    rows = fetch(
        f"""
        SELECT c.id, c.orders_count, c.total_spent, c.first_purchase_at,
          c.last_purchase_at, EXISTS (
            SELECT 1 FROM {erasures} e WHERE e.customer_id = c.id
          )
        FROM {CUSTOMERS} c WHERE c.id = ANY(%s) ORDER BY c.id FOR NO KEY UPDATE
        """,
        # One batch per query in id order: the whole set stays in order.
        sorted(customer_ids),
    )
    figures = {pk: RunningFigures(*values) for pk, *values, _ in rows}
    return figures, {pk for pk, *_, is_erased in rows if is_erased}


def stored_holders(references: set[str]) -> dict[str, tuple[int, Decimal]]:
    """reference -> (customer id, amount) of the stored purchases having them."""
    return {
        reference: (customer_id, amount)
        for reference, customer_id, amount in fetch(
            f"SELECT reference, customer_id, amount FROM {PURCHASES} "
            "WHERE reference = ANY(%s) AND reference <> ''",
            references,
        )
    }


def stored_twins(asked: set[tuple[int, Any, Decimal]]) -> set[tuple]:
    """The (customer, moment, amount) of `asked` that a stored purchase has."""
    found = set()
    with connection.cursor() as cursor:
        for batch in batches(asked):
            customers, moments, amounts = zip(*batch, strict=True)
            cursor.execute(
                f"""
                SELECT DISTINCT p.customer_id, p.occurred_at, p.amount
                FROM unnest(%s::bigint[], %s::timestamptz[], %s::numeric[])
                  AS k(customer_id, occurred_at, amount)
                JOIN {PURCHASES} p ON p.customer_id = k.customer_id
                  AND p.occurred_at = k.occurred_at AND p.amount = k.amount
                """,
                [list(customers), list(moments), list(amounts)],
            )
            found.update(cursor.fetchall())
    return found


def write_purchases(new: dict[int, list[Row]], by) -> list[int]:
    """COPY the new purchases; their ids, in the order they were written.

    In customer order, each customer's by moment: each customer's index pages
    and foreign-key lookups are touched together rather than all over the table.
    """
    count = sum(len(rows) for rows in new.values())
    ids = next_ids(Purchase, count)
    by_id = getattr(by, "pk", None)
    now = timezone.now()

    def values() -> Iterator[tuple]:
        pks = iter(ids)
        for customer_id in sorted(new):
            for row in sorted(new[customer_id], key=itemgetter(MOMENT)):
                yield (
                    next(pks),
                    customer_id,
                    row[MOMENT],
                    row[AMOUNT],
                    row[CURRENCY],
                    row[REFERENCE],
                    row[CHANNEL],
                    0,
                    by_id,
                    now,
                )

    if count:
        copy_rows(Purchase, COPIED, values(), binary=True)
    return ids


def write_figures(figures: dict[int, RunningFigures]) -> None:
    """Every changed customer's new figures in one UPDATE ... FROM."""
    if not figures:
        return
    ids = sorted(figures)
    columns = [
        [getattr(figures[pk], name) for pk in ids] for name in RunningFigures.FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {CUSTOMERS} c SET orders_count = v.orders_count,
              total_spent = v.total_spent, first_purchase_at = v.first_at,
              last_purchase_at = v.last_at, updated_at = %s
            FROM unnest(%s::bigint[], %s::integer[], %s::numeric[],
                        %s::timestamptz[], %s::timestamptz[])
              AS v(id, orders_count, total_spent, first_at, last_at)
            WHERE c.id = v.id
            """,
            [timezone.now(), ids, *columns],
        )
