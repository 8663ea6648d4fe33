"""Expiry: what is left of each lot goes when its day comes, oldest lots first.

Each expired lot gets its own expire entry (linked to the lot, once: a unique
constraint) dated at the start of its expiry day, and has nothing left after.
A batch of members is expired with a few statements on either database: read
their due lots, empty them with one UPDATE, write the entries (built here, in
oldest-first order) with bulk_create, and move the balances with one UPDATE.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from ..models import PointsEntry
from .ledger import add_to_balances, lock_memberships_by_id

EXPIRY_BATCH = 2000


def expire_points(today: date | None = None) -> int:
    """Expire every lot whose day has come; returns the points expired.

    Idempotent: an expired lot has nothing left, so a second run the same day
    finds nothing (and a unique constraint allows one expiry per lot). Works a
    batch of members per transaction, each batch with a handful of statements.
    """
    today = today or timezone.localdate()
    expired = 0
    while True:
        batch = list(
            PointsEntry.objects.due_to_expire(today)
            .order_by("membership_id")
            .values_list("membership_id", flat=True)
            .distinct()[:EXPIRY_BATCH]
        )
        if not batch:
            return expired
        with transaction.atomic():
            expired += _expire_members(batch, today)


def _expire_members(membership_ids: list[int], today: date) -> int:
    locked = list(lock_memberships_by_id(membership_ids))
    lots = list(
        PointsEntry.objects.filter(membership_id__in=locked)
        .due_to_expire(today)
        .order_by("expires_on", "occurred_at", "pk")
        .values_list("pk", "membership_id", "customer_id", "remaining", "expires_on")
    )
    if not lots:
        return 0
    totals: dict[int, int] = defaultdict(int)
    entries = []
    for lot_id, membership_id, customer_id, remaining, expires_on in lots:
        totals[membership_id] -= remaining
        entries.append(
            PointsEntry(
                membership_id=membership_id,
                customer_id=customer_id,
                kind=PointsEntry.Kind.EXPIRE,
                points=-remaining,
                lot_id=lot_id,
                # When the points stopped counting, not when this run noticed.
                occurred_at=timezone.make_aware(datetime.combine(expires_on, time.min)),
                reason=f"Expired on {expires_on:%Y-%m-%d}",
            )
        )
    PointsEntry.objects.filter(pk__in=[lot[0] for lot in lots]).update(remaining=0)
    PointsEntry.objects.bulk_create(entries, batch_size=2000)
    add_to_balances(totals)
    return -sum(totals.values())
