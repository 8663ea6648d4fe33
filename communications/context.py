"""The plain values a message template is filled with, for one customer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from customers.models import Customer

from .loyalty_bridge import loyalty_values
from .unsubscribe import unsubscribe_url


def customer_context(
    customer: Customer,
    *,
    channel: str,
    message_id: int | None = None,
    expiring_within: int | None = None,
) -> dict[str, Any]:
    """Strings, numbers and dates only: never the customer object itself."""
    last_purchase = customer.last_purchase_at
    return {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "last_purchase_date": timezone.localdate(last_purchase)
        if last_purchase
        else None,
        "business_name": settings.BUSINESS_NAME,
        "unsubscribe_url": unsubscribe_url(
            customer_id=customer.pk, channel=channel, message_id=message_id
        ),
        **loyalty_values(customer, expiring_within),
    }
