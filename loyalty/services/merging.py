"""Customers merged: the merged one's membership and ledger go to the kept one."""

from __future__ import annotations

from django.db import transaction

from customers.models import Customer

from ..models import Membership, PointsEntry, Redemption, TierChange
from .tiers import apply_tiers


@transaction.atomic
def merge_memberships(
    *, kept: Customer, merged: Customer, by=None
) -> Membership | None:
    """Move `merged`'s points onto `kept` before `merged` is deleted.

    The caller (customers' merge) holds both customers' locks; the memberships
    come next, in id order (customers.locking).

    Entries move whole, lots with their own dates and what is left of them, so
    no point is lost, doubled or made to expire at another time; the balances
    add up. Returns the kept customer's membership (None: neither was a member).
    """
    memberships = {
        membership.customer_id: membership
        for membership in Membership.objects.select_for_update(no_key=True)
        .filter(customer_id__in=[kept.pk, merged.pk])
        .order_by("pk")
    }
    theirs = memberships.get(merged.pk)
    ours = memberships.get(kept.pk)
    if theirs is None:
        return ours
    if ours is None:
        # The kept customer was not a member: the membership itself moves.
        PointsEntry.objects.filter(membership=theirs).update(customer=kept)
        theirs.customer = kept
        theirs.save(update_fields=["customer"])
        return theirs
    PointsEntry.objects.filter(membership=theirs).update(membership=ours, customer=kept)
    Redemption.objects.filter(membership=theirs).update(membership=ours)
    TierChange.objects.filter(membership=theirs).update(membership=ours)
    Membership.objects.filter(pk=ours.pk).update(
        balance=ours.balance + theirs.balance,
        enrolled_at=min(ours.enrolled_at, theirs.enrolled_at),
    )
    # Nothing points at it any more: its entries, redemptions and changes moved.
    Membership.objects.filter(pk=theirs.pk).delete()
    apply_tiers([ours.pk])
    ours.refresh_from_db()
    return ours
