"""Writing the demo generator's batches: COPY on PostgreSQL, bulk_create elsewhere.

A batch (see ``customers.demo``) holds Customer instances and, for their
history, plain tuples: the customer's index in the batch, then the values of
the columns below. On PostgreSQL each table's rows go in with one ``COPY``
through psycopg, which adapts the values in C: ``bulk_create`` spent about as
long preparing a million purchases in Python as PostgreSQL took to store them.
The ids the history points at (customers, and interactions for the follow-ups)
are drawn from the tables' sequences first, in order, so ids still rise in the
order the rows were made, as with ``bulk_create``.

COPY fires the same statement-level triggers as INSERT, so every seeded
customer, purchase and consent change still gets its audit row.
Elsewhere (SQLite for ``make run``) the tuples become model instances and go in
with ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from .copying import copy_rows, next_ids
from .database import is_postgresql
from .models import ConsentChange, Customer, Feedback, FollowUp, Interaction, Purchase


@dataclass
class SeedSummary:
    customers: int = 0
    purchases: int = 0
    refunds: int = 0
    interactions: int = 0
    feedback: int = 0
    follow_ups: int = 0
    tag_links: int = 0
    consent_changes: int = 0
    staff: list[str] = field(default_factory=list)


@dataclass
class Batch:
    """One batch's rows. Each history row is a tuple starting with its customer's
    index in `customers` (the id is known only once written), then the values
    of the columns named in customers.demo_writer; plain tuples rather than
    model instances, since building a million instances took half the time."""

    customers: list[Customer] = field(default_factory=list)
    purchases: list[tuple] = field(default_factory=list)
    interactions: list[tuple] = field(default_factory=list)
    feedback: list[tuple] = field(default_factory=list)
    consents: list[tuple] = field(default_factory=list)
    # (customer index, tag id)
    tag_links: list[tuple[int, int]] = field(default_factory=list)
    # (customer index, origin's index in `interactions`, due on, assignee id,
    # note, created at)
    follow_ups: list[tuple] = field(default_factory=list)


# The columns after the customer index in each kind of history tuple.
PURCHASE_COLUMNS = (
    "occurred_at",
    "amount",
    "currency",
    "reference",
    "channel",
    "refunded_amount",
    "refunded_at",
    "by_id",
    "created_at",
)
INTERACTION_COLUMNS = (
    "kind",
    "direction",
    "subject",
    "body",
    "occurred_at",
    "by_id",
    "created_at",
)
FEEDBACK_COLUMNS = ("kind", "score", "comment", "occurred_at", "created_at")
CONSENT_COLUMNS = ("channel", "opted_in", "source", "at")


def use_copy() -> bool:
    """Whether batches go in with COPY (PostgreSQL) rather than bulk_create."""
    return is_postgresql()


def write_batch(batch: Batch, summary: SeedSummary, batch_size: int) -> None:
    """Store one batch and add its counts to `summary`."""
    if use_copy():
        _copy_batch(batch)
    else:
        _bulk_create_batch(batch, batch_size)
    summary.customers += len(batch.customers)
    summary.purchases += len(batch.purchases)
    refunded_at = 1 + PURCHASE_COLUMNS.index("refunded_at")  # after the index
    summary.refunds += sum(1 for row in batch.purchases if row[refunded_at])
    summary.interactions += len(batch.interactions)
    summary.feedback += len(batch.feedback)
    summary.consent_changes += len(batch.consents)
    summary.tag_links += len(batch.tag_links)
    summary.follow_ups += len(batch.follow_ups)


def _follow_ups(batch: Batch, customer_ids, interaction_ids) -> list[FollowUp]:
    return [
        FollowUp(
            customer_id=customer_ids[index],
            origin_id=interaction_ids[origin],
            due_on=due,
            assignee_id=assignee,
            note=note,
            created_at=created_at,
        )
        for index, origin, due, assignee, note, created_at in batch.follow_ups
    ]


# PostgreSQL


def _copy_batch(batch: Batch) -> None:
    now = timezone.now()
    customer_ids = next_ids(Customer, len(batch.customers))
    fields = [f for f in Customer._meta.concrete_fields if not f.primary_key]
    for customer, pk in zip(batch.customers, customer_ids, strict=True):
        customer.pk = pk
        customer.updated_at = now  # auto_now, as bulk_create's pre_save sets it
    copy_rows(
        Customer,
        ["id", *(f.attname for f in fields)],
        (
            tuple(getattr(customer, f.attname) for f in [Customer._meta.pk, *fields])
            for customer in batch.customers
        ),
    )
    interaction_ids = next_ids(Interaction, len(batch.interactions))
    _copy_history(
        Interaction,
        INTERACTION_COLUMNS,
        batch.interactions,
        customer_ids,
        ids=interaction_ids,
    )
    _copy_history(Purchase, PURCHASE_COLUMNS, batch.purchases, customer_ids)
    _copy_history(Feedback, FEEDBACK_COLUMNS, batch.feedback, customer_ids)
    _copy_history(ConsentChange, CONSENT_COLUMNS, batch.consents, customer_ids)
    copy_rows(
        Customer.tags.through,
        ["customer_id", "tag_id"],
        ((customer_ids[index], tag) for index, tag in batch.tag_links),
    )
    FollowUp.objects.bulk_create(_follow_ups(batch, customer_ids, interaction_ids))


def _copy_history(
    model: type[Model],
    columns: Sequence[str],
    rows: list[tuple],
    customer_ids: list[int],
    *,
    ids: list[int] | None = None,
) -> None:
    """COPY history tuples, the customer index replaced by the customer's id.

    Columns the tuples leave out get their field's default, as bulk_create
    would give them.
    """
    if not rows:
        return
    given = {"customer_id", *columns}
    rest = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.attname not in given
    ]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    names = ["customer_id", *columns, *(f.attname for f in rest)]
    if ids is None:
        values = ((customer_ids[row[0]], *row[1:], *defaults) for row in rows)
    else:
        names.insert(0, "id")
        values = (
            (pk, customer_ids[row[0]], *row[1:], *defaults)
            for pk, row in zip(ids, rows, strict=True)
        )
    copy_rows(model, names, values)


# Other databases


def _bulk_create_batch(batch: Batch, batch_size: int) -> None:
    Customer.objects.bulk_create(batch.customers, batch_size=batch_size)
    customer_ids = [customer.pk for customer in batch.customers]
    made = {}
    for model, columns, rows in (
        (Purchase, PURCHASE_COLUMNS, batch.purchases),
        (Interaction, INTERACTION_COLUMNS, batch.interactions),
        (Feedback, FEEDBACK_COLUMNS, batch.feedback),
        (ConsentChange, CONSENT_COLUMNS, batch.consents),
    ):
        made[model] = model.objects.bulk_create(
            [
                model(
                    customer_id=customer_ids[row[0]],
                    **dict(zip(columns, row[1:], strict=True)),
                )
                for row in rows
            ],
            batch_size=batch_size,
        )
    through = Customer.tags.through
    through.objects.bulk_create(
        [
            through(customer_id=customer_ids[index], tag_id=tag)
            for index, tag in batch.tag_links
        ],
        batch_size=batch_size,
    )
    interaction_ids = [instance.pk for instance in made[Interaction]]
    FollowUp.objects.bulk_create(_follow_ups(batch, customer_ids, interaction_ids))
