"""Earning for thousands of purchases at once (the set-wise purchases import).

Per batch, whatever its size: lock the customers (enrolling the missing ones if
the program says so) and their memberships, then on PostgreSQL one statement
inserts every earn entry (INSERT ... SELECT, skipping purchases that earned
already by the one-earn-per-purchase unique index) and adds them to the
balances; then the tiers move set-wise. Elsewhere the entries are built in
Python and inserted with bulk_create, then one UPDATE moves the balances.

The SQL computes what ``Program.points_for``, ``expiry_for`` and
``available_from`` do: numeric arithmetic rounded down, dates in the business
time zone, and month arithmetic that keeps the day or falls back to the month's
last day, as ``add_months``. A test compares it with the one-by-one path.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from customers.models import Purchase

from ..models import Membership, PointsEntry, Program, Tier
from .earning import earn_entry
from .enrolment import enroll_customers
from .ledger import credit_many, lock_memberships, sql_available
from .tiers import apply_tiers

EARN_BATCH = 10_000

EARN_SQL = f"""
WITH earned AS (
    INSERT INTO {PointsEntry._meta.db_table} (membership_id, customer_id, kind,
        points, remaining, available_on, expires_on, occurred_at, purchase_id,
        amount, shortfall, key, reason, by_id, created_at)
    SELECT m.id, p.customer_id, 'earn', e.points, e.points,
        e.earned_on + %(pending_days)s,
        CASE WHEN %(expiry_months)s > 0
             THEN (e.earned_on + make_interval(months => %(expiry_months)s))::date
        END,
        p.occurred_at, p.id, e.basis, 0, '', '', %(by)s, statement_timestamp()
    FROM {Purchase._meta.db_table} p
    JOIN {Membership._meta.db_table} m ON m.customer_id = p.customer_id
    LEFT JOIN {Tier._meta.db_table} t ON t.id = m.tier_id
    CROSS JOIN LATERAL (
        SELECT p.amount - p.refunded_amount AS basis,
            floor((p.amount - p.refunded_amount) * %(earn_rate)s
                  * coalesce(t.multiplier, 1))::integer AS points,
            (p.occurred_at AT TIME ZONE %(time_zone)s)::date AS earned_on
    ) e
    WHERE p.id = ANY(%(purchase_ids)s) AND e.points > 0
    ORDER BY p.id
    ON CONFLICT (purchase_id) WHERE kind = 'earn' DO NOTHING
    RETURNING membership_id, points
), balances AS (
    UPDATE {Membership._meta.db_table} m SET balance = m.balance + s.points
    FROM (
        SELECT membership_id, sum(points) AS points FROM earned
        GROUP BY membership_id
    ) s
    WHERE m.id = s.membership_id
)
SELECT count(*) FROM earned
"""


def earn_for_purchases(purchase_ids: Iterable[int], *, by=None) -> int:
    """Earn for many purchases set-wise, in the caller's transaction.

    Purchases that earned already, or of customers who are not (and do not
    become) members, are skipped. Returns how many purchases earned.
    """
    program = Program.current()
    if not program.is_active:
        return 0
    ids = sorted(set(purchase_ids))
    earned = 0
    with transaction.atomic():
        for start in range(0, len(ids), EARN_BATCH):
            earned += _earn_batch(ids[start : start + EARN_BATCH], program, by)
    return earned


def _earn_batch(ids: list[int], program: Program, by) -> int:
    customer_ids = set(
        Purchase.objects.filter(pk__in=ids).values_list("customer_id", flat=True)
    )
    if program.auto_enroll:
        enroll_customers(customer_ids, program=program, by=by)
    members = lock_memberships(customer_ids)
    if not members:
        return 0
    # Everything below runs under the locks: an earn for one of these purchases
    # made meanwhile by earn_for_purchase is seen, so nothing earns twice.
    if sql_available():
        earned = _insert_earnings_sql(ids, program, by)
    else:
        earned = _insert_earnings_python(ids, members, program, by)
    apply_tiers(dict(members.values()), program=program)
    return earned


def _insert_earnings_sql(ids: list[int], program: Program, by) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            EARN_SQL,
            {
                "purchase_ids": ids,
                "earn_rate": program.earn_rate,
                "pending_days": program.pending_days,
                "expiry_months": program.expiry_months,
                "time_zone": settings.TIME_ZONE,
                "by": getattr(by, "pk", None),
            },
        )
        return cursor.fetchone()[0]


def _insert_earnings_python(
    ids: list[int], members: dict[int, tuple[int, int | None]], program: Program, by
) -> int:
    multipliers = dict(Tier.objects.values_list("pk", "multiplier"))
    earned = PointsEntry.objects.filter(
        purchase=OuterRef("pk"), kind=PointsEntry.Kind.EARN
    )
    purchases = (
        Purchase.objects.filter(pk__in=ids, customer_id__in=list(members))
        .filter(~Exists(earned))
        .only("pk", "customer_id", "amount", "refunded_amount", "occurred_at")
    )
    entries = []
    for purchase in purchases:
        membership_id, tier_id = members[purchase.customer_id]
        multiplier = multipliers.get(tier_id, Decimal("1"))
        entry = earn_entry(program, membership_id, purchase, multiplier)
        if entry is not None:
            entry.by = by
            entries.append(entry)
    credit_many(entries)
    return len(entries)
