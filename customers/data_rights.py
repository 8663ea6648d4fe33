"""A customer's data rights: everything held about them as JSON, and erasure.

Erasure wipes what identifies the person (names, email, phone, birthday,
references, addresses in free text) and every free text written about them,
while the anonymous row and its purchase amounts and dates stay, so the
business's figures (revenue, retention, cohorts) do not change. Their rows in
import reports and any upload waiting to be imported go too. Other apps add
their rows through settings.CRM_PERSONAL_DATA (messages, loyalty, the audit
trail, stored API responses). Afterwards the services refuse to
store anything more on the record (customers.services.CustomerErased).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .import_jobs import forget_in_imports
from .locking import lock_customer
from .models import Customer, ErasureRecord
from .wiring import personal_data

ERASED_MARKER = "[erased]"

# The download's profile: every field but the owner, named apart.
PROFILE_FIELDS = [
    "id",
    *(name for name in Customer.PROFILE_FIELDS if name != "owner"),
    *(
        f"{field}{suffix}"
        for field in Customer.CONSENT_FIELDS
        for suffix in ("", "_at", "_source")
    ),
    *Customer.FIGURE_FIELDS,
    "created_at",
    "updated_at",
]


def plain(value: Any) -> Any:
    """A JSON-ready copy: dates as ISO text, money as a decimal string."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def rows(queryset, *fields: str) -> list[dict]:
    return [plain(row) for row in queryset.values(*fields)]


def customer_data(customer: Customer) -> dict[str, Any]:
    """Everything held about one customer, for a download."""
    profile = {name: getattr(customer, name) for name in PROFILE_FIELDS}
    profile["owner"] = customer.owner.get_username() if customer.owner else None
    profile["tags"] = list(customer.tags.values_list("name", flat=True))
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "profile": profile,
        "consent_history": rows(
            customer.consent_changes.order_by("at"),
            "channel", "opted_in", "source", "at", "by__username",
        ),
        "interactions": rows(
            customer.interactions.order_by("occurred_at"),
            "kind", "direction", "subject", "body", "occurred_at", "by__username",
            "automated",
        ),
        "purchases": rows(
            customer.purchases.order_by("occurred_at"),
            "occurred_at", "amount", "currency", "reference", "channel",
            "refunded_amount", "refunded_at",
        ),
        "feedback": rows(
            customer.feedback.order_by("occurred_at"),
            "kind", "score", "comment", "occurred_at",
        ),
        "follow_ups": rows(
            customer.follow_ups.order_by("due_on"),
            "due_on", "note", "completed_at", "assignee__username",
        ),
    }  # fmt: skip
    for source in personal_data():
        data[source.name] = source.export(customer)
    return plain(data)


def erase_customer(*, customer: Customer, by) -> ErasureRecord:
    """Wipe a customer's personal data and free text; keep amounts and dates."""
    with transaction.atomic():
        locked = lock_customer(customer)
        if locked.is_erased:  # read with the lock (customers.locking)
            raise ValidationError("This customer's data has already been erased.")
        full_name = f"{locked.first_name} {locked.last_name}".strip()
        identifiers = {locked.email, locked.reference, locked.phone}
        if locked.first_name and locked.last_name:
            identifiers.add(full_name)
        wiped = {
            "interactions": locked.interactions.update(subject="", body=""),
            "purchases": locked.purchases.update(reference="", channel=""),
            "feedback": locked.feedback.update(comment=""),
            "follow_ups": locked.follow_ups.update(note=""),
            "consent_history": locked.consent_changes.all().delete()[0],
        }
        locked.tags.clear()
        for name in Customer.PROFILE_FIELDS:
            if name != "owner":  # staff, not the customer's data
                setattr(locked, name, Customer._meta.get_field(name).get_default())
        locked.last_name = ERASED_MARKER
        for field in Customer.CONSENT_FIELDS:
            setattr(locked, field, False)
            setattr(locked, f"{field}_at", None)
            setattr(locked, f"{field}_source", "")
        locked.save()  # rebuilds search_text from the wiped fields
        wiped.update(forget_in_imports(identifiers))
        for source in personal_data():
            source.erase(locked)
            wiped[source.name] = True
        return ErasureRecord.objects.create(customer=locked, by=by, wiped=wiped)
