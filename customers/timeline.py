"""One customer's history as a single newest-first timeline.

Interactions, purchases and feedback live in three tables. The timeline asks the
database for one page of (kind, id, occurred_at) across all three with UNION ALL,
then loads just those rows: a constant number of queries whatever the history's
length, and Django's Paginator can page it like a QuerySet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, Value

from .models import Customer, Feedback, Interaction, Purchase

SOURCES = {
    "interaction": Interaction,
    "purchase": Purchase,
    "feedback": Feedback,
}


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "interaction", "purchase" or "feedback"
    occurred_at: datetime
    item: Interaction | Purchase | Feedback


class Timeline:
    """A sliceable, countable view of a customer's history, newest first."""

    def __init__(self, customer: Customer) -> None:
        self.customer = customer

    def _keys(self):
        parts = [
            model.objects.filter(customer=self.customer)
            .annotate(source=Value(name, output_field=CharField()))
            .values_list("source", "pk", "occurred_at")
            .order_by()
            for name, model in SOURCES.items()
        ]
        return parts[0].union(*parts[1:], all=True)

    def count(self) -> int:
        return self._keys().count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[TimelineEntry]:
        if not isinstance(page, slice):
            raise TypeError("The timeline is read a page (a slice) at a time.")
        # Entries at the same instant keep a stable order: by kind, then newest id.
        keys = list(self._keys().order_by("-occurred_at", "-source", "-pk")[page])
        wanted: dict[str, list[int]] = {}
        for source, pk, _ in keys:
            wanted.setdefault(source, []).append(pk)
        loaded = {
            source: SOURCES[source].objects.select_related("by").in_bulk(pks)
            for source, pks in wanted.items()
        }
        return [
            TimelineEntry(source, occurred_at, loaded[source][pk])
            for source, pk, occurred_at in keys
            if pk in loaded[source]
        ]
