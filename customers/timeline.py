"""One customer's history as a single newest-first timeline.

Interactions, purchases and feedback live in three tables. The timeline reads
one page of all of them with a single UNION ALL query that carries every
column the page shows (and the author's username), so a page costs two queries
(count and rows; three for a later page) whatever the history's length, and
Django's Paginator can page it like a QuerySet.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    CharField,
    DateTimeField,
    DecimalField,
    F,
    IntegerField,
    Model,
    Q,
    TextField,
    Value,
)
from django.db.models.functions import Cast

from .models import Customer, Feedback, Interaction, Purchase
from .wiring import declared

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

    Listed in settings.CRM_TIMELINE_SOURCES. ``name`` is the entry's kind (and,
    between entries at the same instant, their order). ``fields`` maps shared
    columns (COLUMNS[4:]) to the model's fields; the rest are NULL. The model
    needs a ``customer`` foreign key and the date-time field ``occurred_at``
    names. ``template`` draws one entry, included by customers/_timeline.html
    with ``item`` (an unsaved copy holding those fields), ``customer`` and
    ``page_url``; Django escapes what it prints.
    """

    model: type[Model]
    fields: dict[str, str]
    template: str
    occurred_at: str = "occurred_at"
    by: str | None = "by__username"
    _: KW_ONLY
    name: str

    def __post_init__(self) -> None:
        if not self.template:
            raise ValueError(f"Timeline source {self.name!r} needs a template.")
        unknown = set(self.fields) - set(NAMES[4:])
        if unknown:
            raise ValueError(f"Unknown timeline columns: {sorted(unknown)}")


# Which model field fills each column, per source.
INTERACTIONS = TimelineSource(
    Interaction,
    {
        "t_kind": "kind",
        "t_direction": "direction",
        "t_subject": "subject",
        "t_body": "body",
    },
    template="customers/_timeline_interaction.html",
    name="interaction",
)
PURCHASES = TimelineSource(
    Purchase,
    {
        "t_currency": "currency",
        "t_reference": "reference",
        "t_channel": "channel",
        "t_amount": "amount",
        "t_refunded_amount": "refunded_amount",
    },
    template="customers/_timeline_purchase.html",
    name="purchase",
)
FEEDBACK = TimelineSource(
    Feedback,
    {"t_kind": "kind", "t_body": "comment", "t_score": "score"},
    template="customers/_timeline_feedback.html",
    name="feedback",
)


class _ListedSources(Mapping[str, TimelineSource]):
    """settings.CRM_TIMELINE_SOURCES by name, read when first used."""

    _listed: tuple = ()
    _by_name: dict[str, TimelineSource] = {}

    def _sources(self) -> dict[str, TimelineSource]:
        # Read for every entry drawn: the dict is rebuilt only when the list is.
        listed = declared("CRM_TIMELINE_SOURCES")
        if listed is not self._listed:
            self._by_name = {source.name: source for source in listed}
            self._listed = listed
        return self._by_name

    def __getitem__(self, name: str) -> TimelineSource:
        return self._sources()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources())

    def __len__(self) -> int:
        return len(self._sources())


SOURCES: Mapping[str, TimelineSource] = _ListedSources()


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # its source's name: "interaction", "purchase", "points", ...
    occurred_at: datetime
    by: str  # the username of who recorded it, or ""
    item: Model  # a copy holding only the timeline's fields: for display only
    template: str  # the source's template, which draws the entry


CENT = Decimal("0.01")


def _entry(row: tuple) -> TimelineEntry:
    values = dict(zip(NAMES, row, strict=True))
    # SQLite hands back a UNION's decimals unrounded (1017.57000000000).
    for money in ("t_amount", "t_refunded_amount"):
        if values[money] is not None:
            values[money] = Decimal(values[money]).quantize(CENT)
    source = values["t_source"]
    spec = SOURCES[source]
    attnames, columns = _item_fields(source, spec)
    # As a query would load it: only these fields, no defaults worked out for
    # the rest (Model(**kwargs) computed one per other field, foreign keys too).
    item = spec.model.from_db(None, attnames, [values[c] for c in columns])
    return TimelineEntry(
        source, values["t_occurred_at"], values["t_by"] or "", item, spec.template
    )


def _item_fields(source: str, spec: TimelineSource) -> tuple[list[str], list[str]]:
    """The item's loaded fields in the model's order, and the column of each."""
    made = _ITEM_FIELDS.get(source)
    if made is None or made[0] is not spec:
        pk = spec.model._meta.pk.attname
        column_of = {pk: "t_pk", spec.occurred_at: "t_occurred_at"}
        column_of.update({field: column for column, field in spec.fields.items()})
        attnames = [
            field.attname
            for field in spec.model._meta.concrete_fields
            if field.attname in column_of
        ]
        made = _ITEM_FIELDS[source] = (
            spec,
            attnames,
            [column_of[name] for name in attnames],
        )
    return made[1], made[2]


_ITEM_FIELDS: dict[str, tuple] = {}


# Entries at the same instant keep a stable order: by kind, then newest id.
ORDER = ("-t_occurred_at", "-t_source", "-t_pk")


def _keys(source: str, customer_id: int, between=None):
    """One source's rows with the three columns the timeline sorts on;
    `between` (first, last) keeps those without a moment or within it."""
    spec = SOURCES[source]
    rows = spec.model.objects.filter(customer_id=customer_id)
    if between is not None:
        window = Q(**{f"{spec.occurred_at}__isnull": True})
        if between:
            window |= Q(**{f"{spec.occurred_at}__range": between})
        rows = rows.filter(window)
    return rows.annotate(
        t_source=Value(source, output_field=CharField()),
        t_pk=F("pk"),
        t_occurred_at=F(spec.occurred_at),
    ).order_by()


def _branch(source: str, customer_id: int, between=None):
    """One source's rows with every column of an entry (NAMES)."""
    spec = SOURCES[source]
    columns = {
        "t_by": F(spec.by) if spec.by else Cast(Value(None), CharField()),
    }
    for name, output_field in COLUMNS[4:]:
        field = spec.fields.get(name)
        # A typed NULL: an untyped one is text to PostgreSQL's UNION.
        columns[name] = F(field) if field else Cast(Value(None), output_field)
    return _keys(source, customer_id, between).annotate(**columns).values_list(*NAMES)


def _sort_keys(source: str, customer_id: int, between=None):
    return _keys(source, customer_id, between).values_list(*NAMES[:3])


def _union(branch, customer_id: int, between=None):
    first, *rest = (branch(source, customer_id, between) for source in SOURCES)
    return first.union(*rest, all=True)


class Timeline:
    """A sliceable, countable view of a customer's history, newest first."""

    def __init__(self, customer: Customer) -> None:
        self.customer = customer

    def count(self) -> int:
        return _union(_sort_keys, self.customer.pk).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[TimelineEntry]:
        if not isinstance(page, slice):
            raise TypeError("The timeline is read a page (a slice) at a time.")
        start = page.start or 0
        limit = page.stop - start
        if start:
            return self._deep_page(start, limit)
        rows = _union(_branch, self.customer.pk).order_by(*ORDER)[:limit]
        return [_entry(row) for row in rows]

    def _deep_page(self, start: int, limit: int) -> list[TimelineEntry]:
        """A later page: sort the keys first, then read only that page's rows.

        Sorting whole rows (every column, the author joined) to skip hundreds of
        them cost ten times the page itself; the keys sort in a fraction of that.
        The rows are then read between the page's first and last moment.
        """
        keys = list(
            _union(_sort_keys, self.customer.pk).order_by(*ORDER)[start : start + limit]
        )
        if not keys:
            return []
        position = {(source, pk): i for i, (source, pk, _) in enumerate(keys)}
        moments = [at for _, _, at in keys if at is not None]
        between = (min(moments), max(moments)) if moments else ()
        rows = _union(_branch, self.customer.pk, between)
        # The window may hold other entries at its first and last moment.
        wanted = [row for row in rows if (row[0], row[1]) in position]
        wanted.sort(key=lambda row: position[row[0], row[1]])
        return [_entry(row) for row in wanted]
