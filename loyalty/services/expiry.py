"""Expiry: what is left of each lot goes when its day comes, oldest lots first.

Each expired lot gets its own expire entry (linked to the lot, once: a unique
constraint) dated at the start of its expiry day, and has nothing left after.
On PostgreSQL a batch of members is expired with one statement (mark the lots,
write the entries in oldest-first order, move the balances); elsewhere with a
few, the entries built in Python.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import Membership, PointsEntry
from .ledger import add_to_balances, lock_memberships_by_id, sql_available

EXPIRY_BATCH = 2000

LOTS = PointsEntry._meta.db_table
EXPIRE_SQL = f"""
WITH due AS (
    SELECT id, remaining FROM {LOTS}
    WHERE membership_id = ANY(%(membership_ids)s) AND remaining > 0
      AND expires_on <= %(today)s
), emptied AS (
    UPDATE {LOTS} lot SET remaining = 0 FROM due
    WHERE lot.id = due.id
    RETURNING lot.id, lot.membership_id, lot.customer_id, due.remaining,
        lot.expires_on, lot.occurred_at
), expired AS (
    INSERT INTO {LOTS} (membership_id, customer_id, kind, points, remaining,
        occurred_at, lot_id, shortfall, key, reason, created_at)
    SELECT membership_id, customer_id, 'expire', -remaining, 0,
        expires_on::timestamp AT TIME ZONE %(time_zone)s, id, 0, '',
        'Expired on ' || to_char(expires_on, 'YYYY-MM-DD'), statement_timestamp()
    FROM emptied ORDER BY expires_on, occurred_at, id
    RETURNING membership_id, points
), balances AS (
    UPDATE {Membership._meta.db_table} m SET balance = m.balance + s.points
    FROM (
        SELECT membership_id, sum(points) AS points FROM expired
        GROUP BY membership_id
    ) s
    WHERE m.id = s.membership_id
)
SELECT coalesce(-sum(points), 0) FROM expired
"""


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
    if sql_available():
        with connection.cursor() as cursor:
            cursor.execute(
                EXPIRE_SQL,
                {
                    "membership_ids": locked,
                    "today": today,
                    "time_zone": settings.TIME_ZONE,
                },
            )
            return int(cursor.fetchone()[0])
    return _expire_members_python(locked, today)


def _expire_members_python(locked: list[int], today: date) -> int:
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
