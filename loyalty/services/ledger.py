"""The ledger's moves, shared by the services: lock, credit a lot, take from lots.

Callers run inside a transaction and hold the lock on every membership they
change (``lock_membership`` / ``lock_memberships``); balances move in the same
statements' transaction as the entries that explain them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from customers.database import is_postgresql
from customers.locking import lock_customer, lock_customer_ids
from customers.models import Customer

from ..models import Membership, PointsEntry, PointsEntryQuerySet
from .errors import NotAMember


def lock_membership(customer: Customer | int) -> Membership:
    """The customer, then their membership, locked until the transaction ends.

    In the lock order of customers.locking; locking the customer again in a
    transaction that holds it already costs one query and waits for nothing.
    """
    customer_id = getattr(customer, "pk", customer)
    lock_customer(customer_id)
    try:
        return (
            Membership.objects.select_for_update(of=("self",), no_key=True)
            .select_related("tier", "customer")
            .get(customer_id=customer_id)
        )
    except Membership.DoesNotExist:
        raise NotAMember(
            f"{customer} is not a member of the loyalty program."
        ) from None


def lock_memberships(customer_ids: Iterable[int]) -> dict[int, tuple[int, int | None]]:
    """Lock the customers, then their memberships, each in id order.

    Returns customer id -> (membership id, tier id).
    """
    locked = lock_customer_ids(customer_ids)
    rows = (
        Membership.objects.select_for_update(no_key=True)
        .filter(customer_id__in=locked)
        .order_by("pk")
        .values_list("customer_id", "pk", "tier_id")
    )
    return {customer_id: (pk, tier_id) for customer_id, pk, tier_id in rows}


def lock_memberships_by_id(
    membership_ids: Iterable[int],
) -> dict[int, int | None]:
    """Lock these memberships' customers, then the memberships, in id order.

    For the runs that find members by their membership (expiry, tiers,
    birthdays): membership id -> tier id, for those that still exist.
    """
    ids = list(membership_ids)
    customer_ids = Membership.objects.filter(pk__in=ids).values_list(
        "customer_id", flat=True
    )
    lock_customer_ids(customer_ids)
    return dict(
        Membership.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "tier_id")
    )


def add_to_balances(deltas: dict[int, int]) -> None:
    """Add each delta to its (locked) membership's balance, in one statement."""
    deltas = {pk: delta for pk, delta in deltas.items() if delta}
    if not deltas:
        return
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Membership._meta.db_table} m
                SET balance = m.balance + d.delta
                FROM unnest(%s::bigint[], %s::integer[]) AS d(id, delta)
                WHERE m.id = d.id
                """,
                [list(deltas), list(deltas.values())],
            )
        return
    Membership.objects.filter(pk__in=list(deltas)).update(
        balance=F("balance")
        + Case(
            *[When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()],
            output_field=IntegerField(),
        )
    )


def credit(
    membership: Membership,
    *,
    kind: str,
    points: int,
    expires_on: date | None,
    available_on: date | None = None,
    occurred_at: datetime | None = None,
    by=None,
    reason: str = "",
    **links,
) -> PointsEntry:
    """Add a lot of `points` to a locked membership."""
    return save_lot(
        membership,
        PointsEntry(
            kind=kind,
            points=points,
            expires_on=expires_on,
            available_on=available_on or timezone.localdate(),
            occurred_at=occurred_at or timezone.now(),
            by=by,
            reason=reason,
            **links,
        ),
    )


def save_lot(membership: Membership, entry: PointsEntry) -> PointsEntry:
    """Store an unsaved lot for a locked membership and add it to the balance."""
    entry.membership = membership
    entry.customer_id = membership.customer_id
    entry.remaining = entry.points
    entry.save()
    _move_balance(membership, entry.points)
    return entry


def credit_many(entries: list[PointsEntry]) -> list[PointsEntry]:
    """Insert many lots for locked memberships and add them to the balances."""
    if not entries:
        return []
    totals: dict[int, int] = defaultdict(int)
    for entry in entries:
        entry.remaining = entry.points
        totals[entry.membership_id] += entry.points
    created = PointsEntry.objects.bulk_create(entries, batch_size=2000)
    add_to_balances(totals)
    return created


def take(
    membership: Membership,
    points: int,
    *,
    lots: PointsEntryQuerySet,
    first_lot_id: int | None = None,
) -> tuple[int, list[PointsEntry]]:
    """Take up to `points` from the lots, soonest expiring first.

    `first_lot_id` is taken from before the others (a refund's own purchase).
    Returns the points taken and the lots they came from; the caller writes the
    debit entry and moves the balance (see ``debit``).
    """
    ordered = lots.filter(membership=membership).open().soonest_expiring_first()
    if first_lot_id is not None:
        ordered = ordered.order_by(
            Case(When(pk=first_lot_id, then=0), default=1), *ordered.query.order_by
        )
    needed, touched = points, []
    for lot in ordered.only("pk", "remaining", "expires_on"):
        part = min(lot.remaining, needed)
        lot.remaining -= part
        needed -= part
        touched.append(lot)
        if needed == 0:
            break
    if touched:
        PointsEntry.objects.bulk_update(touched, ["remaining"])
    return points - needed, touched


def debit(
    membership: Membership,
    *,
    kind: str,
    points: int,
    lots: PointsEntryQuerySet,
    first_lot_id: int | None = None,
    occurred_at: datetime | None = None,
    by=None,
    reason: str = "",
    **links,
) -> tuple[PointsEntry, list[PointsEntry]]:
    """Take `points` from a locked membership's lots and write the debit entry.

    The caller has checked that the lots hold enough (or, for a refund, passes
    ``shortfall`` for what they could not); returns the entry and the lots.
    """
    taken, lots_taken = take(membership, points, lots=lots, first_lot_id=first_lot_id)
    entry = PointsEntry.objects.create(
        membership=membership,
        customer_id=membership.customer_id,
        kind=kind,
        points=-taken,
        occurred_at=occurred_at or timezone.now(),
        by=by,
        reason=reason,
        **links,
    )
    _move_balance(membership, -taken)
    return entry, lots_taken


def _move_balance(membership: Membership, delta: int) -> None:
    if delta:
        Membership.objects.filter(pk=membership.pk).update(balance=F("balance") + delta)
        membership.balance += delta
