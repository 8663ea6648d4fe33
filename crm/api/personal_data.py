"""The API responses stored for retries (idempotency) that show a customer.

A stored response is a copy of the customer's data as it was when created; it
is part of their data download and is replaced on erasure, its record kept so a
late retry still creates nothing a second time.
"""

from __future__ import annotations

from typing import Any

from crm.models import IdempotencyRecord
from customers.wiring import PersonalData

from .idempotency import ERASED_DETAIL


def export_api_responses(customer) -> list[dict[str, Any]]:
    records = IdempotencyRecord.objects.filter(customer_id=customer.pk)
    return [
        {
            "method": record.method,
            "path": record.path,
            "status": record.status_code,
            "response": record.response_body,
            "at": record.created_at.isoformat(),
        }
        for record in records.order_by("created_at", "pk")
    ]


def erase_api_responses(customer) -> None:
    IdempotencyRecord.objects.filter(customer_id=customer.pk).update(
        status_code=410, response_body={"detail": ERASED_DETAIL}
    )


# settings.CRM_PERSONAL_DATA
PERSONAL_DATA = PersonalData("api_responses", export_api_responses, erase_api_responses)
