"""A customer's audit trail under data rights: part of their download, and
wiped with the rest of their personal data on erasure.

Listed in settings.CRM_PERSONAL_DATA (PERSONAL_DATA, at the end).
Erasure keeps each event's table, row, action, actor, origin and time (who did
what when stays provable) and replaces every text value in its old and new
values, which is where names, contact details, notes and references are, with a marker.
Numbers, true/false and empty values stay: amounts, counts and ids are not
personal and keep the business's history readable.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from customers.wiring import PersonalData

from .models import AuditEvent

ERASED = "[erased]"


def wipe_value(value: Any) -> Any:
    """The value with every text inside it replaced by the marker."""
    if isinstance(value, str):
        return ERASED if value else value
    if isinstance(value, dict):
        return {key: wipe_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wipe_value(item) for item in value]
    return value


def export_audit_trail(customer) -> list[dict]:
    """The changes recorded about the customer, for their data download."""
    return [
        {
            "table": event.table_name,
            "row": event.row_id,
            "action": event.action,
            "changes": event.changes,
            "at": event.at.isoformat(),
        }
        for event in AuditEvent.objects.of_customer(customer.pk).order_by("at", "id")
    ]


def erase_audit_trail(customer) -> None:
    """Wipe personal values from the customer's audit events.

    Runs inside erase_customer's transaction, after the customer's own rows were
    wiped: the audit events those very changes produced are wiped here too.
    """
    now = timezone.now()
    events = list(
        AuditEvent.objects.of_customer(customer.pk).only(
            "id", "old_values", "new_values"
        )
    )
    for event in events:
        event.old_values = wipe_value(event.old_values)
        event.new_values = wipe_value(event.new_values)
        event.erased_at = now
    AuditEvent.objects.bulk_update(
        events, ["old_values", "new_values", "erased_at"], batch_size=500
    )


PERSONAL_DATA = PersonalData("audit", export_audit_trail, erase_audit_trail)
