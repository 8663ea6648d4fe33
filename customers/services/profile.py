"""Customers themselves: their profile and consent, tags and saved segments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..locking import lock_customer
from ..models import (
    ConsentChange,
    Customer,
    SavedSegment,
    Tag,
)

# What the services set: the profile, and when they became a customer (imports).
PROFILE_FIELDS = (*Customer.PROFILE_FIELDS, "created_at")
CONSENT_FIELDS = {
    field: field.removesuffix("_opt_in") for field in Customer.CONSENT_FIELDS
}


class CustomerErased(ValidationError):
    """The customer's personal data was erased: nothing more is stored on them."""


ERASED_REFUSAL = (
    "This customer's personal data was erased, so nothing more can be stored "
    "about them. If they come back, add them as a new customer."
)


def _lock_unerased(customer: Customer | int) -> Customer:
    """The customer, locked (customers.locking), refused if they were erased.

    Every service that stores something about a customer takes its lock here:
    an erasure commits under the same lock, so none can slip in after it.
    """
    locked = lock_customer(customer)
    if locked.is_erased:
        raise CustomerErased(ERASED_REFUSAL)
    return locked


class FollowUpAlreadyDone(Exception):
    """The follow-up was completed already (perhaps by someone else just now)."""


class PurchaseReferenceConflict(ValidationError):
    """The reference belongs to a purchase of another customer or amount."""


def _set_consent(
    customer: Customer, channel: str, opted_in: bool, *, source: str, by
) -> None:
    setattr(customer, f"{channel}_opt_in", opted_in)
    setattr(customer, f"{channel}_opt_in_at", timezone.now())
    setattr(customer, f"{channel}_opt_in_source", source[:100])
    ConsentChange.objects.create(
        customer=customer, channel=channel, opted_in=opted_in, source=source, by=by
    )


@transaction.atomic
def create_customer(
    *,
    by=None,
    tags: Iterable[Tag] = (),
    consent_source: str = "staff",
    **fields: Any,
) -> Customer:
    """Store a new customer; raises ValidationError for bad or duplicate data."""
    unknown = set(fields) - set(PROFILE_FIELDS) - set(CONSENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    customer = Customer(**{k: v for k, v in fields.items() if k in PROFILE_FIELDS})
    customer.full_clean()
    customer.save()
    for field, channel in CONSENT_FIELDS.items():
        if fields.get(field):
            _set_consent(customer, channel, True, source=consent_source, by=by)
    if customer.email_opt_in or customer.sms_opt_in:
        customer.save()
    if tags:
        customer.tags.set(tags)
    return customer


@transaction.atomic
def update_customer(
    *,
    customer: Customer,
    by=None,
    tags: Iterable[Tag] | None = None,
    consent_source: str = "staff",
    **fields: Any,
) -> Customer:
    """Change a customer's profile and consent; consent changes are recorded."""
    unknown = set(fields) - set(PROFILE_FIELDS) - set(CONSENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    locked = _lock_unerased(customer)
    for name, value in fields.items():
        if name in PROFILE_FIELDS:
            setattr(locked, name, value)
    locked.full_clean()
    for field, channel in CONSENT_FIELDS.items():
        if field in fields and bool(fields[field]) != getattr(locked, field):
            _set_consent(
                locked, channel, bool(fields[field]), source=consent_source, by=by
            )
    locked.save()
    if tags is not None:
        locked.tags.set(tags)
    return locked


@transaction.atomic
def create_tag(*, name: str) -> Tag:
    tag = Tag(name=name.strip())
    tag.full_clean()
    tag.save()
    return tag


@transaction.atomic
def rename_tag(*, tag: Tag, name: str) -> Tag:
    tag.name = name.strip()
    tag.full_clean()
    tag.save(update_fields=["name"])
    return tag


@transaction.atomic
def delete_tag(*, tag: Tag) -> None:
    """Remove the tag from every customer and delete it."""
    tag.delete()


@transaction.atomic
def save_segment(*, name: str, params: dict, by) -> SavedSegment:
    """Save the list's filters under a name; they are re-applied on each use."""
    segment = SavedSegment(name=name.strip(), params=params, created_by=by)
    segment.full_clean()
    segment.save()
    return segment


@transaction.atomic
def delete_segment(*, segment: SavedSegment) -> None:
    segment.delete()
