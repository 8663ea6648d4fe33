"""What loyalty holds about a customer: for their data download, and erasure.

Listed in settings.CRM_PERSONAL_DATA (PERSONAL_DATA, at the end).
Erasure wipes the free text staff typed (adjustment reasons); points, dates and
amounts stay, as the balance is money owed and the ledger is never rewritten.
"""

from __future__ import annotations

from typing import Any

from customers.wiring import PersonalData

from .models import Membership, PointsEntry, Redemption, TierChange


def _date(value) -> str | None:
    return value.isoformat() if value else None


def export_loyalty(customer) -> dict[str, Any] | None:
    """The membership, ledger, redemptions and tier changes as JSON-ready data."""
    membership = (
        Membership.objects.select_related("tier").filter(customer=customer).first()
    )
    if membership is None:
        return None
    return {
        "enrolled_at": _date(membership.enrolled_at),
        "balance": membership.balance,
        "tier": membership.tier.name if membership.tier else None,
        "ledger": [
            {
                "kind": entry.kind,
                "points": entry.points,
                "remaining": entry.remaining if entry.points > 0 else None,
                "occurred_at": _date(entry.occurred_at),
                "available_on": _date(entry.available_on),
                "expires_on": _date(entry.expires_on),
                "purchase_reference": entry.purchase.reference
                if entry.purchase
                else None,
                "reason": entry.reason,
            }
            for entry in PointsEntry.objects.filter(membership=membership)
            .select_related("purchase")
            .order_by("occurred_at", "pk")
        ],
        "redemptions": [
            {
                "code": redemption.code,
                "reward": redemption.reward.name,
                "points": redemption.points,
                "status": redemption.status,
                "created_at": _date(redemption.created_at),
                "cancelled_at": _date(redemption.cancelled_at),
            }
            for redemption in Redemption.objects.filter(membership=membership)
            .select_related("reward")
            .order_by("created_at", "pk")
        ],
        "tier_changes": [
            {
                "from": change.old_name or None,
                "to": change.new_name or None,
                "changed_at": _date(change.changed_at),
            }
            for change in TierChange.objects.filter(membership=membership).order_by(
                "changed_at", "pk"
            )
        ],
    }


def erase_loyalty(customer) -> None:
    """Wipe the free text of the customer's entries; keep points and dates."""
    PointsEntry.objects.filter(customer=customer).exclude(reason="").update(reason="")


PERSONAL_DATA = PersonalData("loyalty", export_loyalty, erase_loyalty)
