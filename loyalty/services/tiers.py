"""Tiers: each member sits in the highest tier their last 12 months support.

The window's figure (points earned from purchases, or money spent) is read with
one grouped query for any number of members; the tier it reaches is picked in
Python from the handful of tiers. Only members whose tier changes are written,
each change recorded as a TierChange (communications' "tier reached" reads them). A
downgrade happens only when the window no longer reaches the tier's threshold:
redeeming or expiring points never lowers a tier, only purchases leaving the
window (or being refunded) do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from customers.models import Purchase

from ..models import Membership, PointsEntry, Program, Tier, TierChange
from .ledger import lock_memberships_by_id

TIER_BATCH = 1000
ZERO = Decimal("0")


def qualifying_figures(
    program: Program,
    today: date | None = None,
    *,
    membership_ids: Iterable[int] | None = None,
) -> dict[int, Decimal]:
    """Each member's 12-month figure, by membership id (absent: nothing).

    One grouped query: for all members, or for `membership_ids`.
    """
    return {
        pk: Decimal(figure)
        for pk, figure in qualifying_rows(program, today, membership_ids=membership_ids)
    }


def qualifying_rows(
    program: Program,
    today: date | None = None,
    *,
    membership_ids: Iterable[int] | None = None,
):
    """The query behind qualifying_figures: (membership id, figure) rows."""
    window_start = program.tier_window_start(today)
    if program.tier_basis == Program.TierBasis.SPEND:
        rows = Purchase.objects.filter(
            customer__membership__isnull=False, occurred_at__gte=window_start
        )
        key = "customer__membership"
        if membership_ids is not None:
            rows = rows.filter(customer__membership__in=list(membership_ids))
        total = Sum(F("amount") - F("refunded_amount"))
    else:
        # Points from purchases in the window, less what refunds took back of
        # them (a shortfall counts: those points were spent, not kept).
        rows = PointsEntry.objects.filter(
            kind__in=[PointsEntry.Kind.EARN, PointsEntry.Kind.REVERSAL],
            purchase__occurred_at__gte=window_start,
        )
        key = "membership"
        if membership_ids is not None:
            rows = rows.filter(membership_id__in=list(membership_ids))
        total = Sum(F("points") - F("shortfall"))
    return (
        rows.order_by().values_list(key).annotate(total=total).values_list(key, "total")
    )


def tier_for(figure: Decimal, tiers: list[Tier]) -> Tier | None:
    """The highest of the tiers (highest threshold first) the figure reaches."""
    return next((tier for tier in tiers if tier.threshold <= figure), None)


def apply_tiers(
    current: dict[int, int | None] | Iterable[int],
    *,
    program: Program | None = None,
    today: date | None = None,
    tiers: QuerySet | None = None,
) -> list[TierChange]:
    """Move the (locked) memberships to the tiers their windows support.

    `current` maps membership ids to their tier ids, or lists the ids (their
    tiers are then read). `tiers` are the tiers to choose from (default: all).
    Returns the changes made (usually none).
    """
    program = program or Program.current()
    if not isinstance(current, dict):
        current = dict(
            Membership.objects.filter(pk__in=list(current)).values_list("pk", "tier_id")
        )
    if not current:
        return []
    every_tier = list(Tier.objects.order_by("-threshold"))
    by_id = {tier.pk: tier for tier in every_tier}
    tiers = every_tier if tiers is None else list(tiers.order_by("-threshold"))
    figures = qualifying_figures(program, today, membership_ids=list(current))
    now = timezone.now()
    moves: dict[int | None, list[int]] = defaultdict(list)
    changes = []
    for pk, old_id in current.items():
        figure = figures.get(pk, ZERO)
        new = tier_for(figure, tiers)
        if (new.pk if new else None) == old_id:
            continue
        old = by_id.get(old_id)
        moves[new.pk if new else None].append(pk)
        changes.append(
            TierChange(
                membership_id=pk,
                old_tier=old,
                new_tier=new,
                old_name=old.name if old else "",
                new_name=new.name if new else "",
                qualifying=figure,
                upgrade=(new.threshold if new else -1) > (old.threshold if old else -1),
                changed_at=now,
            )
        )
    if not changes:
        return []
    for new_id, pks in moves.items():
        Membership.objects.filter(pk__in=pks).update(tier_id=new_id, tier_since=now)
    TierChange.objects.bulk_create(changes)
    return changes


def recalculate_tiers(today: date | None = None) -> list[TierChange]:
    """Put every member in the tier their window supports (the nightly run).

    Finds the members to move with two queries (every member's tier, every
    member's figure), then locks and moves them in batches, reading each
    batch's figures again under its locks.
    """
    program = Program.current()
    tiers = list(Tier.objects.order_by("-threshold"))
    figures = qualifying_figures(program, today)
    candidates = [
        pk
        for pk, tier_id in Membership.objects.values_list("pk", "tier_id").iterator(
            chunk_size=10_000
        )
        if (getattr(tier_for(figures.get(pk, ZERO), tiers), "pk", None)) != tier_id
    ]
    changes: list[TierChange] = []
    for start in range(0, len(candidates), TIER_BATCH):
        batch = candidates[start : start + TIER_BATCH]
        with transaction.atomic():
            locked = lock_memberships_by_id(batch)
            changes.extend(apply_tiers(locked, program=program, today=today))
    return changes
