"""CSV exports, streamed row by row, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import islice

from django.db.models import QuerySet
from django.utils import timezone

from .models import Interaction, Purchase, attach_tag_names

# A cell starting with one of these is read as a formula by spreadsheet programs
# (OWASP "CSV injection"); tab, CR, LF and NUL can hide such a start.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
BATCH = 2000


def neutralise(value: object) -> str:
    """The cell as text, with a leading ' where text could start a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() hands the line back (Django's recipe)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # a BOM so Excel reads UTF-8
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def _batches(queryset: QuerySet, size: int = BATCH) -> Iterator[list]:
    rows = queryset.iterator(chunk_size=size)
    while batch := list(islice(rows, size)):
        yield batch


CUSTOMER_HEADER = [
    "id",
    "reference",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "tags",
    "owner",
    "email_opt_in",
    "sms_opt_in",
    "orders",
    "total_spent",
    "first_purchase_at",
    "last_purchase_at",
    "last_contact_at",
    "last_automated_at",
    "created_at",
]


def customer_rows(customers: QuerySet) -> Iterator[list]:
    queryset = customers.select_related("owner").order_by("pk")
    for batch in _batches(queryset):
        for c in attach_tag_names(batch):
            yield [
                c.pk,
                c.reference,
                c.first_name,
                c.last_name,
                c.email,
                c.phone,
                c.birthday,
                ";".join(c.tag_names),
                c.owner.username if c.owner_id else "",
                c.email_opt_in,
                c.sms_opt_in,
                c.orders_count,
                c.total_spent,
                c.first_purchase_at,
                c.last_purchase_at,
                c.last_contact_at,
                c.last_automated_at,
                c.created_at,
            ]


PURCHASE_HEADER = [
    "customer",
    "occurred_at",
    "amount",
    "reference",
    "currency",
    "channel",
    "refunded_amount",
]


def purchase_rows(purchases: QuerySet | None = None) -> Iterator[list]:
    """In the import format (customer = reference, else email), plus refunds."""
    if purchases is None:
        purchases = Purchase.objects.all()
    queryset = purchases.select_related("customer")
    for p in queryset.order_by("pk").iterator(chunk_size=BATCH):
        yield [
            p.customer.reference or p.customer.email,
            p.occurred_at,
            p.amount,
            p.reference,
            p.currency,
            p.channel,
            p.refunded_amount,
        ]


INTERACTION_HEADER = [
    "customer",
    "occurred_at",
    "kind",
    "direction",
    "subject",
    "body",
    "by",
]


def interaction_rows(interactions: QuerySet | None = None) -> Iterator[list]:
    if interactions is None:
        interactions = Interaction.objects.all()
    queryset = interactions.select_related("customer", "by")
    for i in queryset.order_by("pk").iterator(chunk_size=BATCH):
        yield [
            i.customer.reference or i.customer.email or i.customer_id,
            i.occurred_at,
            i.kind,
            i.direction,
            i.subject,
            i.body,
            i.by.username if i.by_id else "",
        ]
