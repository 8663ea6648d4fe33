"""The loyalty card on the customer page (CARD, in settings.CRM_CUSTOMER_PANELS).

Queries, whatever the ledger's length: 1 program, 1 membership with its tier;
for a member also 1 its 12-month figure, 1 lots summary, 1 tiers, 1 recent
entries, 1 tier changes, 1 rewards for the redeem form (8 in all; 2 for a
non-member).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Min, Q, Sum
from django.http import HttpRequest
from django.utils import timezone

from customers.roles import is_owner
from customers.wiring import CustomerPanel

from .forms import RedeemForm
from .models import Membership, PointsEntry, Program, Reward, Tier, TierChange
from .services.tiers import qualifying_rows

EXPIRING_SOON_DAYS = 30
RECENT_ENTRIES = 5
RECENT_TIER_CHANGES = 3


def next_tier_progress(
    tiers: list[Tier], current: Tier | None, qualifying: Decimal
) -> tuple[Tier | None, int | None]:
    """The next tier above the member's, and how far along they are (0-100)."""
    floor = current.threshold if current else Decimal("-1")
    above = [tier for tier in tiers if tier.threshold > max(floor, qualifying)]
    if not above:
        return None, None
    following = above[0]
    if not following.threshold:
        return following, 100
    percent = int(qualifying * 100 / following.threshold)
    return following, max(0, min(percent, 100))


def lots_summary(membership_id: int, today: date) -> dict:
    """A member's open lots: spendable, pending, expiring soon and when."""
    soon = today + timedelta(days=EXPIRING_SOON_DAYS)
    return (
        PointsEntry.objects.filter(membership_id=membership_id)
        .open()
        .aggregate(
            spendable=Sum(
                "remaining",
                filter=(Q(available_on__isnull=True) | Q(available_on__lte=today))
                & (Q(expires_on__isnull=True) | Q(expires_on__gt=today)),
            ),
            pending=Sum("remaining", filter=Q(available_on__gt=today)),
            expiring=Sum(
                "remaining", filter=Q(expires_on__gt=today, expires_on__lte=soon)
            ),
            expiring_on=Min(
                "expires_on", filter=Q(expires_on__gt=today, expires_on__lte=soon)
            ),
        )
    )


def loyalty_panel(request: HttpRequest, customer) -> dict:
    program = Program.current()
    membership = (
        Membership.objects.select_related("tier").filter(customer=customer).first()
    )
    if membership is None:
        return {"program": program, "membership": None}
    today = timezone.localdate()
    figure = list(qualifying_rows(program, today, membership_ids=[membership.pk]))
    qualifying = Decimal(figure[0][1]) if figure else Decimal("0")
    lots = lots_summary(membership.pk, today)
    next_tier, progress = next_tier_progress(
        list(Tier.objects.all()), membership.tier, qualifying
    )
    return {
        "program": program,
        "membership": membership,
        "spendable": lots["spendable"] or 0,
        "pending": lots["pending"] or 0,
        "expiring": lots["expiring"] or 0,
        "expiring_on": lots["expiring_on"],
        "expiring_days": EXPIRING_SOON_DAYS,
        "next_tier": next_tier,
        "progress": progress,
        "to_next_tier": (next_tier.threshold - qualifying) if next_tier else None,
        "recent_entries": list(
            PointsEntry.objects.filter(membership=membership)
            .select_related("by")
            .order_by("-occurred_at", "-pk")[:RECENT_ENTRIES]
        ),
        "tier_changes": list(
            TierChange.objects.filter(membership=membership)[:RECENT_TIER_CHANGES]
        ),
        "redeem_form": RedeemForm(rewards=Reward.objects.available()),
        "can_adjust": is_owner(request.user),
    }


CARD = CustomerPanel("loyalty/_panel.html", loyalty_panel)
