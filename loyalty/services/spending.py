"""Spending and correcting points: redeem, cancel a redemption, adjust, import."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer
from customers.roles import is_owner

from ..models import Membership, PointsEntry, Program, Redemption, Reward
from .enrolment import enroll_unchecked
from .errors import (
    InsufficientPoints,
    NotAMember,
    RedemptionAlreadyCancelled,
    RewardSoldOut,
    RewardUnavailable,
)
from .ledger import credit, debit, lock_membership


@transaction.atomic
def redeem(customer: Customer, reward: Reward, *, by=None) -> Redemption:
    """Spend points on a reward; refuses rather than overdraw or oversell.

    The member's lock, then the reward's: two redemptions for one member, or of
    one reward in limited stock, wait for each other instead of both passing
    the checks.
    """
    membership = lock_membership(customer)
    reward = Reward.objects.select_for_update(no_key=True).get(pk=reward.pk)
    if not reward.is_active:
        raise RewardUnavailable(f"{reward.name} is not offered at the moment.")
    if reward.sold_out:
        raise RewardSoldOut(f"{reward.name} is sold out.")
    today = timezone.localdate()
    spendable = PointsEntry.objects.filter(membership=membership).spendable(today)
    available = membership.spendable_points(today)
    if available < reward.cost:
        raise InsufficientPoints(
            balance=membership.balance, needed=reward.cost, spendable=available
        )
    redemption = _new_redemption(membership, reward, by)
    _, lots = debit(
        membership,
        kind=PointsEntry.Kind.REDEEM,
        points=reward.cost,
        lots=spendable,
        redemption=redemption,
        by=by,
        reason=reward.name,
    )
    expiries = [lot.expires_on for lot in lots]
    redemption.refund_expires_on = (
        None if None in expiries else max(expiries, default=None)
    )
    redemption.save(update_fields=["refund_expires_on"])
    if reward.stock is not None:
        reward.stock -= 1
        reward.save(update_fields=["stock", "updated_at"])
    return redemption


def _new_redemption(membership: Membership, reward: Reward, by) -> Redemption:
    # A clash of random codes is all but impossible; try another if it happens.
    for attempt in range(5):
        try:
            with transaction.atomic():
                return Redemption.objects.create(
                    code=Redemption.new_code(),
                    membership=membership,
                    reward=reward,
                    points=reward.cost,
                    by=by,
                )
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def cancel_redemption(redemption: Redemption, *, by=None) -> Redemption:
    """Undo a redemption: its points come back as a new lot, its stock returns."""
    membership = lock_membership(
        Membership.objects.values_list("customer_id", flat=True).get(
            redemptions=redemption.pk
        )
    )
    locked = Redemption.objects.select_for_update(no_key=True).get(pk=redemption.pk)
    if locked.is_cancelled:
        raise RedemptionAlreadyCancelled(
            f"Redemption {locked.code} was cancelled already."
        )
    reward = Reward.objects.select_for_update(no_key=True).get(pk=locked.reward_id)
    credit(
        membership,
        kind=PointsEntry.Kind.REVERSAL,
        points=locked.points,
        expires_on=locked.refund_expires_on,
        redemption=locked,
        by=by,
        reason=f"Cancelled redemption {locked.code}",
    )
    if reward.stock is not None:
        reward.stock += 1
        reward.save(update_fields=["stock", "updated_at"])
    locked.status = Redemption.Status.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.cancelled_by = by
    locked.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    return locked


@transaction.atomic
def adjust(customer: Customer, points: int, *, reason: str, by) -> PointsEntry:
    """An Owner's correction, up or down, with the reason recorded.

    Points added expire as if earned today; points removed come from the lots
    that expire soonest, and never take the balance below zero.
    """
    if by is None or not is_owner(by):
        raise PermissionDenied("Only an Owner can adjust points.")
    if not isinstance(points, int) or points == 0:
        raise ValidationError({"points": "Enter a number of points other than 0."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the points are adjusted."})
    membership = lock_membership(customer)
    if points > 0:
        program = Program.current()
        return credit(
            membership,
            kind=PointsEntry.Kind.ADJUST,
            points=points,
            expires_on=program.expiry_for(timezone.localdate()),
            by=by,
            reason=reason,
        )
    if membership.balance < -points:
        raise InsufficientPoints(balance=membership.balance, needed=-points)
    entry, _ = debit(
        membership,
        kind=PointsEntry.Kind.ADJUST,
        points=-points,
        lots=PointsEntry.objects.all(),
        by=by,
        reason=reason,
    )
    return entry


def opening_key(customer_id: int, earned_at: datetime, expires_on: date | None) -> str:
    expires = expires_on.isoformat() if expires_on else "never"
    return f"opening:{customer_id}:{earned_at.isoformat()}:{expires}"


@transaction.atomic
def import_opening_balance(
    *,
    customer: Customer,
    points: int,
    earned_at: datetime,
    expires_on: date | None = None,
    by=None,
) -> tuple[PointsEntry, bool]:
    """A lot carried over from a previous program; joins the customer if needed.

    Idempotent: the same customer, earned moment and expiry again returns the
    stored lot and False. Without `expires_on` the program's rule applies from
    `earned_at`. Returns (entry, created).
    """
    if points <= 0:
        raise ValidationError({"points": "Enter a number of points above 0."})
    if timezone.is_naive(earned_at):
        raise ValueError("earned_at must be timezone-aware")
    today = timezone.localdate()
    if earned_at > timezone.now():
        raise ValidationError({"earned_at": "Points cannot be earned in the future."})
    program = Program.current()
    expires_on = expires_on or program.expiry_for(timezone.localdate(earned_at))
    if expires_on is not None and expires_on <= today:
        raise ValidationError(
            {"expires_at": f"These points expired on {expires_on}: leave them out."}
        )
    key = opening_key(customer.pk, earned_at, expires_on)
    existing = PointsEntry.objects.filter(key=key).first()
    if existing is not None:
        if existing.points != points:
            raise ValidationError(
                {
                    "points": f"An opening balance of {existing.points} points with "
                    "these dates was imported already."
                }
            )
        return existing, False
    try:
        membership = lock_membership(customer)
    except NotAMember:
        enroll_unchecked(customer, program=program, by=by, welcome_bonus=False)
        membership = lock_membership(customer)
    entry = credit(
        membership,
        kind=PointsEntry.Kind.ADJUST,
        points=points,
        expires_on=expires_on,
        occurred_at=earned_at,
        key=key,
        by=by,
        reason="Opening balance (imported)",
    )
    return entry, True
