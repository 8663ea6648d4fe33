"""One customer's history as a single newest-first timeline.

Interactions, purchases and feedback live in three tables. The timeline reads
one page of all three with a single UNION ALL query that carries every column
the page shows (and the author's username), so a page costs two queries (count
and rows) whatever the history's length, and Django's Paginator can page it like
a QuerySet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    CharField,
    DateTimeField,
    DecimalField,
    F,
    IntegerField,
    Model,
    TextField,
    Value,
)
from django.db.models.functions import Cast

from .models import Customer, Feedback, Interaction, Purchase

# The shared columns, each a (name, output field) pair; every branch of the
# UNION annotates all of them, in this order, so their columns line up.
COLUMNS = [
    ("t_source", CharField()),
    ("t_pk", IntegerField()),
    ("t_occurred_at", DateTimeField()),
    ("t_by", CharField()),
    ("t_kind", CharField()),
    ("t_direction", CharField()),
    ("t_subject", CharField()),
    ("t_body", TextField()),
    ("t_currency", CharField()),
    ("t_reference", CharField()),
    ("t_channel", CharField()),
    ("t_amount", DecimalField(max_digits=12, decimal_places=2)),
    ("t_refunded_amount", DecimalField(max_digits=12, decimal_places=2)),
    ("t_score", IntegerField()),
]
NAMES = [name for name, _ in COLUMNS]


@dataclass(frozen=True)
class TimelineSource:
    """A model whose rows belong on a customer's timeline.

    ``fields`` maps shared columns (COLUMNS[4:]) to the model's fields; the rest
    are NULL. ``template`` draws one entry (given ``item``, an unsaved copy
    holding those fields); the built-in sources are drawn by the page itself.
    """

    model: type[Model]
    fields: dict[str, str]
    template: str = ""
    occurred_at: str = "occurred_at"
    by: str | None = "by__username"


# Which model field fills each column, per source.
SOURCES: dict[str, TimelineSource] = {
    "interaction": TimelineSource(
        Interaction,
        {
            "t_kind": "kind",
            "t_direction": "direction",
            "t_subject": "subject",
            "t_body": "body",
        },
    ),
    "purchase": TimelineSource(
        Purchase,
        {
            "t_currency": "currency",
            "t_reference": "reference",
            "t_channel": "channel",
            "t_amount": "amount",
            "t_refunded_amount": "refunded_amount",
        },
    ),
    "feedback": TimelineSource(
        Feedback,
        {"t_kind": "kind", "t_body": "comment", "t_score": "score"},
    ),
}


def register_timeline_source(name: str, source: TimelineSource) -> None:
    """Let another app's rows (points, messages) join every customer's timeline.

    Called from that app's AppConfig.ready(); the model needs a ``customer``
    foreign key and a date-time field named by ``source.occurred_at``.
    """
    if not source.template:
        raise ValueError("A registered timeline source needs a template.")
    unknown = set(source.fields) - set(NAMES[4:])
    if unknown:
        raise ValueError(f"Unknown timeline columns: {sorted(unknown)}")
    SOURCES[name] = source


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "interaction", "purchase", "feedback" or a registered source
    occurred_at: datetime
    by: str  # the username of who recorded it, or ""
    item: Model  # an unsaved copy: for display only
    template: str = ""  # how a registered source's entry is drawn


CENT = Decimal("0.01")


def _entry(row: tuple) -> TimelineEntry:
    values = dict(zip(NAMES, row, strict=True))
    # SQLite hands back a UNION's decimals unrounded (1017.57000000000).
    for money in ("t_amount", "t_refunded_amount"):
        if values[money] is not None:
            values[money] = Decimal(values[money]).quantize(CENT)
    source = values["t_source"]
    spec = SOURCES[source]
    item = spec.model(
        pk=values["t_pk"],
        **{spec.occurred_at: values["t_occurred_at"]},
        **{field: values[column] for column, field in spec.fields.items()},
    )
    return TimelineEntry(
        source, values["t_occurred_at"], values["t_by"] or "", item, spec.template
    )


# Entries at the same instant keep a stable order: by kind, then newest id.
ORDER = ("-t_occurred_at", "-t_source", "-t_pk")


class Timeline:
    """A sliceable, countable view of a customer's history, newest first."""

    def __init__(self, customer: Customer) -> None:
        self.customer = customer

    def _keys(self, source: str):
        """One source's rows with the three columns the timeline sorts on."""
        spec = SOURCES[source]
        return (
            spec.model.objects.filter(customer=self.customer)
            .annotate(
                t_source=Value(source, output_field=CharField()),
                t_pk=F("pk"),
                t_occurred_at=F(spec.occurred_at),
            )
            .order_by()
        )

    def _branch(self, source: str):
        """One source's rows with every column of an entry (NAMES)."""
        spec = SOURCES[source]
        columns = {
            "t_by": F(spec.by) if spec.by else Cast(Value(None), CharField()),
        }
        for name, output_field in COLUMNS[4:]:
            field = spec.fields.get(name)
            # A typed NULL: an untyped one is text to PostgreSQL's UNION.
            columns[name] = F(field) if field else Cast(Value(None), output_field)
        return self._keys(source).annotate(**columns).values_list(*NAMES)

    def _rows(self):
        first, *rest = (self._branch(source) for source in SOURCES)
        return first.union(*rest, all=True)

    def count(self) -> int:
        first, *rest = (
            spec.model.objects.filter(customer=self.customer)
            .values_list("pk")
            .order_by()
            for spec in SOURCES.values()
        )
        return first.union(*rest, all=True).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[TimelineEntry]:
        if not isinstance(page, slice):
            raise TypeError("The timeline is read a page (a slice) at a time.")
        if page.start:
            return self._deep_page(page)
        rows = self._rows().order_by(*ORDER)[page]
        return [_entry(row) for row in rows]

    def _deep_page(self, page: slice) -> list[TimelineEntry]:
        """A later page: sort the keys first, then read only that page's rows.

        Sorting whole rows (every column, the author joined) to skip hundreds of
        them cost ten times the page itself; the keys sort in a fraction of that.
        """
        first, *rest = (
            self._keys(source).values_list("t_source", "t_pk", "t_occurred_at")
            for source in SOURCES
        )
        keys = list(first.union(*rest, all=True).order_by(*ORDER)[page])
        wanted: dict[str, list[int]] = {}
        for source, pk, _ in keys:
            wanted.setdefault(source, []).append(pk)
        if not wanted:
            return []
        first, *rest = (
            self._branch(source).filter(pk__in=pks) for source, pks in wanted.items()
        )
        rows = first.union(*rest, all=True).order_by(*ORDER)
        return [_entry(row) for row in rows]
