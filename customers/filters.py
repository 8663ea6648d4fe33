"""The customer list's filters, shared by the list page and saved segments.

Filters are kept as plain query parameters so a saved segment is re-evaluated
against today's data each time it is opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import CharField, F, Func, QuerySet

from .fields import ShortModelChoiceField
from .models import Customer, CustomerQuerySet, Tag

# Each sort key maps to an ORDER BY that one index of Customer serves.
SORTS: dict[str, tuple[str, list]] = {
    "name": ("Name A–Z", ["last_name", "first_name", "id"]),
    "-name": ("Name Z–A", ["-last_name", "-first_name", "-id"]),
    "-last_contact": (
        "Last contact, recent first",
        [F("last_contact_at").desc(nulls_last=True), F("id").desc()],
    ),
    # Never-contacted customers have waited longest, so they come first; the
    # descending index read backwards serves this order.
    "last_contact": (
        "Last contact, longest ago first",
        [F("last_contact_at").asc(nulls_first=True), F("id").asc()],
    ),
    "-last_purchase": (
        "Last purchase, recent first",
        [F("last_purchase_at").desc(nulls_last=True), F("id").desc()],
    ),
    "last_purchase": ("Last purchase, longest ago first", ["last_purchase_at", "id"]),
    "-total_spent": ("Total spent, highest first", ["-total_spent", "-id"]),
    "total_spent": ("Total spent, lowest first", ["total_spent", "id"]),
    "-created": ("Newest customers first", ["-created_at", "-id"]),
    "created": ("Oldest customers first", ["created_at", "id"]),
}
DEFAULT_SORT = "name"

# The parameters that make up a filter (and so a saved segment); page is not one.
FILTER_FIELDS = ("q", "tag", "owner", "no_contact_days", "no_purchase_days", "opted_in")


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(
            attrs={"placeholder": "Name, email or phone", "type": "search"}
        ),
    )
    tag = ShortModelChoiceField(
        queryset=Tag.objects.all(),
        required=False,
        empty_label="Any tag",
    )
    owner = ShortModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="Anyone",
    )
    no_contact_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="No contact in (days)"
    )
    no_purchase_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="No purchase in (days)"
    )
    opted_in = forms.ChoiceField(
        required=False,
        choices=[("", "Any consent"), ("email", "Email opt-in"), ("sms", "SMS opt-in")],
        label="Opted in",
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(key, label) for key, (label, _) in SORTS.items()],
    )

    def filter_params(self) -> dict[str, Any]:
        """The cleaned filters as JSON-safe values, as a segment stores them."""
        params: dict[str, Any] = {}
        for name in FILTER_FIELDS:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            params[name] = value.pk if hasattr(value, "pk") else value
        return params


def filter_customers(
    queryset: CustomerQuerySet, params: Mapping[str, Any]
) -> CustomerQuerySet:
    """Apply filters given as parameters, as a saved segment stores them.

    A filter that no longer applies (its tag deleted, its owner gone) matches
    nobody: dropping it would widen a segment to customers it never meant.
    """
    form = CustomerFilterForm(data={k: params.get(k) for k in FILTER_FIELDS})
    if not form.is_valid():
        return queryset.none()
    return apply_filters(queryset, form.cleaned_data)


def segment_customers(segment) -> CustomerQuerySet:
    """The customers matching a saved segment's filters today."""
    return filter_customers(Customer.objects.all(), segment.params)


def apply_filters(queryset: CustomerQuerySet, cleaned: Mapping[str, Any]):
    if cleaned.get("q"):
        queryset = queryset.search(cleaned["q"])
    if cleaned.get("tag"):
        queryset = queryset.tagged(cleaned["tag"])
    if cleaned.get("owner"):
        queryset = queryset.owned_by(cleaned["owner"])
    if cleaned.get("no_contact_days"):
        queryset = queryset.no_contact_in(cleaned["no_contact_days"])
    if cleaned.get("no_purchase_days"):
        queryset = queryset.no_purchase_in(cleaned["no_purchase_days"])
    if cleaned.get("opted_in"):
        queryset = queryset.opted_in(cleaned["opted_in"])
    return queryset


class Unindexed(Func):
    """The column's value, in a form no index matches (`last_name || ''`).

    Searching sorted by name, PostgreSQL would walk the name index hoping to meet
    50 matches soon; but matches for a name cluster at one letter ("smit" under
    S), so it reads most of the table first. Sorting on an expression instead
    makes it fetch the matches through the trigram index and sort just those.
    """

    template = "(%(expressions)s || '')"
    output_field = CharField()


# Shorter terms cannot use the trigram index, so the name index stays the best way.
TRIGRAM_LENGTH = 3


def sort_customers(queryset: QuerySet, sort: str | None, search: str = "") -> QuerySet:
    sort = sort if sort in SORTS else DEFAULT_SORT
    _, ordering = SORTS[sort]
    if sort in ("name", "-name") and len(search.strip()) >= TRIGRAM_LENGTH:
        descending = sort.startswith("-")
        ordering = [
            Unindexed(F(name)).desc() if descending else Unindexed(F(name)).asc()
            for name in ("last_name", "first_name")
        ] + ["-id" if descending else "id"]
    return queryset.order_by(*ordering)


def list_customers(params: Mapping[str, Any]) -> tuple[CustomerFilterForm, QuerySet]:
    """The list page's form and its filtered, sorted customers."""
    form = CustomerFilterForm(data=params)
    form.is_valid()  # invalid fields drop out of cleaned_data and filter nothing
    queryset = apply_filters(Customer.objects.for_list(), form.cleaned_data)
    cleaned = form.cleaned_data
    return form, sort_customers(queryset, cleaned.get("sort"), cleaned.get("q", ""))


__all__ = [
    "CustomerFilterForm",
    "SORTS",
    "filter_customers",
    "list_customers",
    "sort_customers",
]
