"""The messages held about a customer: for the data download, and erasure."""

from __future__ import annotations

from typing import Any

from customers.wiring import PersonalData

from .models import Message, ProviderEvent


def _when(value) -> str | None:
    return value.isoformat() if value else None


def export_messages(customer) -> list[dict[str, Any]]:
    """Every message to the customer, as JSON-ready values."""
    messages = Message.objects.filter(customer=customer).select_related(
        "rule", "campaign"
    )
    return [
        {
            "channel": message.channel,
            "status": message.status,
            "reason": message.reason,
            "source": message.source_name,
            "to": message.to_address,
            "subject": message.subject,
            "body_text": message.body_text,
            "body_html": message.body_html,
            "scheduled_for": _when(message.scheduled_for),
            "sent_at": _when(message.sent_at),
            "delivered_at": _when(message.delivered_at),
            "opened_at": _when(message.opened_at),
            "clicked_at": _when(message.clicked_at),
            "created_at": _when(message.created_at),
        }
        for message in messages.order_by("created_at", "pk")
    ]


def erase_messages(customer) -> None:
    """Wipe addresses and rendered texts; keep statuses and dates for the figures."""
    Message.objects.filter(customer=customer).update(
        to_address="", subject="", body_text="", body_html="", provider_id=""
    )
    # A provider's error can quote the address; the reason of a failure goes too.
    Message.objects.filter(customer=customer, status="failed").update(reason="")
    # What providers reported names the address and may quote the reply.
    ProviderEvent.objects.filter(customer=customer).update(
        recipient="", detail="", provider_message_id=""
    )


# settings.CRM_PERSONAL_DATA
PERSONAL_DATA = PersonalData("messages", export_messages, erase_messages)
