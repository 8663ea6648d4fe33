"""The set-wise purchase import for PostgreSQL: decided in Python, written in bulk.

Row by row, a purchase import costs a few queries per row (lock the customer,
look for the reference, insert, update the figures): a few hundred rows a
second. Here the whole file is one transaction:

1. read and check every row in Python (bulk_purchase_rows.py);
2. look up the file's customers in batches and match each key with the
   row-by-row importer's rule (import_rules.pick_customer);
3. lock those customers in id order (customers/locking.py), with their running
   figures and whether they were erased;
4. look up in batches what is stored: purchases with the file's references,
   and purchases at the moments of its rows without one;
5. decide each row in file order with purchase_rules.purchase_fate, the rule
   record_purchase follows, remembering what earlier rows stored;
6. write what was decided: the new customers (bulk_create), the new purchases
   (one COPY, in customer order), each customer's new figures (one
   UPDATE ... FROM of values worked out with RunningFigures, as
   record_purchase keeps them).

The outcome is the row-by-row importer's, row for row (the tests compare the
two): the same rows are created, unchanged or rejected, with the same messages.
The audit triggers fire for COPY as for INSERT. Receivers of
``purchases_bulk_recorded`` (loyalty's earning) get the new purchase ids inside
the transaction.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db import connection, transaction

from . import bulk_purchase_sql as sql
from .bulk_purchase_rows import AMOUNT, MOMENT, REFERENCE, WHO, Row, parsed_rows
from .csv_input import Problem
from .database import is_postgresql
from .import_rules import (
    NO_CUSTOMER,
    key_parts,
    new_customer_identity,
    new_customer_key_problem,
    pick_customer,
)
from .models import Customer, Purchase
from .purchase_rules import Fate, RunningFigures, conflict_message, purchase_fate
from .services import ERASED_REFUSAL
from .signals import purchases_bulk_recorded

PROGRESS_EVERY_ROWS = 10_000


def supported() -> bool:
    return is_postgresql()


class NewCustomer:
    """A customer the file makes (create_missing), standing in until stored.

    Row by row, a row whose purchase is refused rolls back the customer it
    made; so a customer is made only once a row of theirs is new, and named
    by that row's key.
    """

    __slots__ = ("key", "customer")

    def __init__(self) -> None:
        self.key: str | None = None
        self.customer: Customer | None = None

    def __str__(self) -> str:
        return str(self.customer)


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
    with transaction.atomic(), _collector_paused():
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the file's rows are held.

    The rows make no cycles, but each collection of the oldest generation walks
    every live container: with a million rows held, that took longer than
    deciding them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_rows(
    rows: Iterable[Row], *, create_missing: bool, by, progress=None
) -> dict[str, Any]:
    """Apply every row in the caller's transaction; returns counts and problems."""
    with connection.cursor() as cursor:
        # The lookups' joins against big arrays are cheap to plan and run, and
        # costly to compile.
        cursor.execute("SET LOCAL jit = off")
    file = _read(rows, progress)
    keys = file.keys
    customer_of = _match_customers(keys)
    figures, erased = sql.lock_customers(set(customer_of.values()))
    vanished = {key for key, pk in customer_of.items() if pk not in figures}
    for key in vanished:
        del customer_of[key]
    decision = Decision(
        customer_of,
        erased,
        vanished,
        new_customers=_identities(keys - customer_of.keys() - vanished)
        if create_missing
        else None,
        holders=sql.stored_holders(file.references),
        twins=sql.stored_twins(
            {
                (customer_of[row[WHO]], row[MOMENT], row[AMOUNT])
                for row in file.unreferenced
                if row[WHO] in customer_of
            }
        ),
        repeated=file.repeated,
        asked={row[MOMENT] for row in file.unreferenced},
    )
    decision.decide(file.rows)
    del file
    _create_customers(decision)
    changed = {}
    for customer_id, new in decision.new.items():
        # A customer made by the file starts from no purchases.
        added = changed[customer_id] = figures.get(customer_id, RunningFigures())
        added.add([row[AMOUNT] for row in new], [row[MOMENT] for row in new])
    new_ids = sql.write_purchases(decision.new, by)
    sql.write_figures(changed)
    if new_ids:
        purchases_bulk_recorded.send(sender=Purchase, purchase_ids=new_ids, by=by)
    return {
        "created": len(new_ids),
        "unchanged": decision.unchanged,
        "problems": decision.problems + _conflicts(decision.conflicts),
    }


@dataclass
class File:
    """A file's checked rows, and what the decisions need to know of them all."""

    rows: list[Row] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)
    repeated: set[str] = field(default_factory=set)  # on more than one row
    unreferenced: list[Row] = field(default_factory=list)


def _read(rows: Iterable[Row], progress) -> File:
    file = File()
    references, repeated = file.references, file.repeated
    for row in rows:
        file.rows.append(row)
        file.keys.add(row[WHO])
        reference = row[REFERENCE]
        if not reference:
            file.unreferenced.append(row)
        elif reference in references:
            repeated.add(reference)
        else:
            references.add(reference)
        if progress is not None and len(file.rows) % PROGRESS_EVERY_ROWS == 0:
            progress(len(file.rows))
    return file


class Decision:
    """Each row's fate in file order, and what the file stores so far.

    ``holders`` (reference -> (customer, amount)) and ``twins`` ((customer,
    moment, amount) of purchases) start as what is stored and grow with each
    new row, so a later row sees the earlier ones as row by row it would see
    them stored. Only with what a later row can ask about: a reference on more
    than one row (``repeated``), a moment of a row without reference
    (``asked``); keeping every new row's took a third of the deciding.
    """

    def __init__(
        self,
        customer_of: dict[str, int],
        erased: set[int],
        vanished: set[str],
        *,
        new_customers: dict[str, NewCustomer] | None,
        holders: dict[str, tuple[Any, Decimal]],
        twins: set[tuple[Any, Any, Decimal]],
        repeated: set[str],
        asked: set[Any],
    ) -> None:
        self.customer_of = customer_of
        self.erased = erased
        self.vanished = vanished
        self.new_customers = new_customers
        self.holders = holders
        self.twins = twins
        self.repeated = repeated
        self.asked = asked
        self.new: dict[Any, list[Row]] = {}  # customer -> new rows
        self.unchanged = 0
        self.problems: list[Problem] = []
        self.conflicts: list[tuple[int, str, Any, Decimal]] = []
        self.key_problems: dict[str, str | None] = {}
        self.made: list[NewCustomer] = []  # in the order rows made them

    def decide(self, rows: list[Row]) -> None:
        # Names bound locally: this loop runs once per row of a million.
        customer_of, erased, holders, twins = (
            self.customer_of,
            self.erased,
            self.holders,
            self.twins,
        )
        repeated, asked = self.repeated, self.asked
        new, conflicts, unchanged = self.new, self.conflicts, 0
        for row in rows:
            line, who, moment, amount, reference = row[:5]
            customer = customer_of.get(who)
            if customer is None or customer in erased:
                customer = self.other_customer(line, who, customer)
                if customer is None:
                    continue
            holder = holders.get(reference) if reference else None
            fate = purchase_fate(
                customer=customer,
                amount=amount,
                reference=reference,
                holder=holder,
                twin_stored=not reference and (customer, moment, amount) in twins,
            )
            if fate is Fate.NEW:
                if reference in repeated:
                    holders[reference] = (customer, amount)
                if moment in asked:
                    twins.add((customer, moment, amount))
                rows_of = new.get(customer)
                if rows_of is None:
                    rows_of = new[customer] = []
                    if isinstance(customer, NewCustomer):
                        customer.key = who  # the row that makes them
                        self.made.append(customer)
                rows_of.append(row)
            elif fate is Fate.UNCHANGED:
                unchanged += 1
            else:
                conflicts.append((line, reference, *holder))
        self.unchanged += unchanged

    def other_customer(self, line: int, who: str, found: int | None) -> Any:
        """A row's customer when the key matched none, or an erased one: a
        NewCustomer (create_missing), or None with the row's problem noted.

        A customer merged away between the match and the lock is no customer:
        their rows are rejected, and importing the file again finds the kept
        customer where the merge left the key.
        """
        if found is not None:  # erased
            self.problems.append(Problem(line, "", "", ERASED_REFUSAL))
            return None
        if self.new_customers is None or who in self.vanished:
            self.problems.append(Problem(line, "customer", who, NO_CUSTOMER))
            return None
        new = self.new_customers[who]
        if new.key is None:  # not made yet: this row's key would make it
            if who not in self.key_problems:
                self.key_problems[who] = new_customer_key_problem(who)
            if self.key_problems[who]:
                self.problems.append(
                    Problem(line, "customer", who, self.key_problems[who])
                )
                return None
        return new


def _match_customers(keys: set[str]) -> dict[str, int]:
    """Customer ids by the file's keys, each picked as find_customer_by_key does
    from what two batched lookups found."""
    by_reference = sql.customers_by_reference(keys)
    by_email = sql.customers_by_email(
        [key for key in keys if "@" in key and key not in by_reference]
    )
    matched = {}
    for key in keys:
        reference, email = key_parts(key)
        found = pick_customer(
            reference, email, by_reference=by_reference.get, by_email=by_email.get
        )
        if found is not None:
            matched[key] = found
    return matched


def _identities(keys: set[str]) -> dict[str, NewCustomer]:
    """One NewCustomer per customer the unknown keys would make.

    A key with @ makes a customer with that email, whom a later key finds in
    any letter case (lowered by the database, as the lookup compares); any
    other key makes the customer with that reference, found by that key only.
    """
    lowered = sql.lowered([key for key in keys if "@" in key])
    made: dict[str, NewCustomer] = {}
    return {key: made.setdefault(lowered.get(key, key), NewCustomer()) for key in keys}


def _create_customers(decision: Decision) -> None:
    """Store the customers that rows made, and put their ids in the decision.

    As create_customer would store them (bulk_create calls no save()).
    """
    for new in decision.made:
        new.customer = Customer(**new_customer_identity(new.key))
        new.customer.search_text = new.customer.build_search_text()
    Customer.objects.bulk_create(
        [new.customer for new in decision.made], batch_size=5000
    )
    for new in decision.made:
        decision.new[new.customer.pk] = decision.new.pop(new)


def _conflicts(conflicts: list[tuple[int, str, Any, Decimal]]) -> list[Problem]:
    """The refused rows, each naming the purchase that has its reference."""
    names = Customer.objects.in_bulk(
        {holder for _, _, holder, _ in conflicts if isinstance(holder, int)}
    )
    return [
        Problem(
            line,
            "reference",
            reference,
            conflict_message(reference, amount, names.get(holder, holder)),
        )
        for line, reference, holder, amount in conflicts
    ]
