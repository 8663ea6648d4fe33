"""Points from purchases: earned exactly once, reversed pro rata on refunds.

A purchase earns through one of two doors, both under the member's lock and both
backed by the one-earn-per-purchase unique constraint: ``earn_for_purchase``
here (record_purchase: typed, API, row-by-row import) and ``earn_for_purchases``
in bulk_earning (the set-wise import). Both follow ``Program.points_for``,
``expiry_for`` and ``available_from``; a test holds them to the same points and
dates.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from customers.models import Customer, Purchase

from ..models import PointsEntry, Program
from .enrolment import enroll_unchecked
from .errors import NotAMember
from .ledger import debit, lock_membership, lock_memberships, save_lot
from .tiers import apply_tiers


def earn_entry(
    program: Program, membership_id: int, purchase, multiplier
) -> PointsEntry | None:
    """The unsaved earn entry for a purchase (None: it earns nothing)."""
    basis = purchase.net_amount
    points = program.points_for(basis, multiplier)
    if points <= 0:
        return None
    earned_on = timezone.localdate(purchase.occurred_at)
    return PointsEntry(
        membership_id=membership_id,
        customer_id=purchase.customer_id,
        kind=PointsEntry.Kind.EARN,
        points=points,
        remaining=points,
        purchase_id=purchase.pk,
        amount=basis,
        occurred_at=purchase.occurred_at,
        available_on=program.available_from(earned_on),
        expires_on=program.expiry_for(earned_on),
    )


@transaction.atomic
def earn_for_purchase(purchase: Purchase, *, by=None) -> PointsEntry | None:
    """Earn the points of a member's purchase, once; joins a non-member if the
    program enrols on purchase. Returns the earn entry (None: nothing earned)."""
    program = Program.current()
    if not program.is_active:
        return None
    try:
        membership = lock_membership(purchase.customer_id)
    except NotAMember:
        if not program.auto_enroll:
            return None
        customer = Customer.objects.get(pk=purchase.customer_id)
        enroll_unchecked(customer, program=program, by=by)
        membership = lock_membership(purchase.customer_id)
    existing = PointsEntry.objects.filter(
        purchase=purchase, kind=PointsEntry.Kind.EARN
    ).first()
    if existing is not None:
        return existing
    multiplier = membership.tier.multiplier if membership.tier else Decimal("1")
    entry = earn_entry(program, membership.pk, purchase, multiplier)
    if entry is not None:
        entry.by = by
        save_lot(membership, entry)
    # Even a purchase too small to earn counts when tiers qualify on spend.
    apply_tiers({membership.pk: membership.tier_id}, program=program)
    return entry


@transaction.atomic
def reverse_for_refund(purchase: Purchase, *, by=None) -> PointsEntry | None:
    """Take back the points of the refunded part of a purchase, pro rata.

    The share is of what the purchase earned, against the amount it earned on;
    refunds add up, and rounding down the running total keeps several partial
    refunds from taking back more than a full one. Points already spent are not
    taken below a zero balance: the entry records that shortfall.
    """
    earn = (
        PointsEntry.objects.filter(purchase=purchase, kind=PointsEntry.Kind.EARN)
        .only("pk", "membership_id", "points", "amount")
        .first()
    )
    if earn is None or not earn.amount:
        _refresh_tier(purchase.customer_id)
        return None
    membership = lock_membership(purchase.customer_id)
    refunded_before_earning = purchase.amount - earn.amount
    refunded_since = purchase.refunded_amount - refunded_before_earning
    due_total = int(
        (earn.points * refunded_since / earn.amount).to_integral_value(
            rounding=ROUND_FLOOR
        )
    )
    reversals = PointsEntry.objects.filter(
        purchase=purchase, kind=PointsEntry.Kind.REVERSAL
    ).aggregate(taken=Sum("points"), short=Sum("shortfall"))
    already = -(reversals["taken"] or 0) + (reversals["short"] or 0)
    due = min(due_total, earn.points) - already
    if due <= 0:
        apply_tiers({membership.pk: membership.tier_id})
        return None
    # Taken as far as the balance allows; the rest had been spent already.
    takeable = min(due, membership.balance)
    entry, _ = debit(
        membership,
        kind=PointsEntry.Kind.REVERSAL,
        points=takeable,
        lots=PointsEntry.objects.all(),
        first_lot_id=earn.pk,
        purchase=purchase,
        shortfall=due - takeable,
        by=by,
        reason=f"Refund of {refunded_since} of {earn.amount}",
    )
    apply_tiers({membership.pk: membership.tier_id})
    return entry


def _refresh_tier(customer_id: int) -> None:
    """A refund lowers spend even where no points were earned (spend basis)."""
    if Program.current().tier_basis != Program.TierBasis.SPEND:
        return
    apply_tiers([pk for pk, _ in lock_memberships([customer_id]).values()])
