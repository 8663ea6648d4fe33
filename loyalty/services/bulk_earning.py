"""Earning for thousands of purchases at once (the set-wise purchases import).

Per batch, whatever its size: lock the customers (enrolling the missing ones if
the program says so) and their memberships, build every earn entry with
``earn_entry`` (the one rule for a purchase's points and dates, which the
one-by-one path uses too), skipping purchases that earned already (read under
the locks), insert them with one bulk_create per 2,000 and move the balances
with one UPDATE; then the tiers move set-wise.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef

from customers.models import Purchase

from ..models import PointsEntry, Program, Tier
from .earning import earn_entry
from .enrolment import enroll_customers
from .ledger import credit_many, lock_memberships
from .tiers import apply_tiers

EARN_BATCH = 10_000


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
    earned = _insert_earnings(ids, members, program, by)
    apply_tiers(dict(members.values()), program=program)
    return earned


def _insert_earnings(
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
