"""Demo loyalty program over the customers' demo data (after ``seed_demo``).

``seed_loyalty_demo(seed)`` sets up a running program with tiers and rewards (if
no program was saved yet), enrols a deterministic share of the customers who
have bought, earns their purchases' points through the set-wise earning path,
expires what two years of history left to expire, redeems some rewards and
places everyone in their tier. The ledger it leaves passes ``loyalty_audit``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum

from customers.models import Customer, Purchase

from . import services
from .models import Membership, PointsEntry, Program, Reward, Tier

MEMBER_SHARE = 0.6
REDEEMING_SHARE = 0.08
MAX_DEMO_REDEMPTIONS = 300
ENROL_BATCH = 5000

# enroll_customers' rows for customers who are not members yet (the demo's are
# not), set-wise; the lots' keys are services.welcome_key's.
TIERS = [
    ("Silver", Decimal("500"), Decimal("1.25"), "Birthday coffee on the house."),
    ("Gold", Decimal("1500"), Decimal("1.5"), "Free delivery and early sales."),
]
REWARDS = [
    ("Free coffee", "Any size, any blend.", 100, None, True),
    ("10% off your next order", "One order, up to 100 off.", 250, None, True),
    ("Tote bag", "Our canvas bag.", 500, 25, True),
    ("25 gift card", "For you or a friend.", 2000, 10, True),
    ("Summer mug", "Back next summer.", 300, 0, False),
]


@dataclass
class LoyaltySeedSummary:
    members: int = 0
    points_earned: int = 0
    points_expired: int = 0
    redemptions: int = 0
    skipped: bool = False


def _set_up_program() -> Program:
    if Program.objects.exists():
        return Program.current()
    program = services.save_program(
        name="Bean Points",
        is_active=True,
        earn_rate=Decimal("1"),
        point_value=Decimal("0.01"),
        welcome_bonus=50,
        birthday_bonus=100,
        expiry_months=12,
        pending_days=0,
        auto_enroll=True,
        tier_basis=Program.TierBasis.POINTS,
    )
    for name, threshold, multiplier, perks in TIERS:
        if not Tier.objects.filter(name=name).exists():
            services.create_tier(
                name=name, threshold=threshold, multiplier=multiplier, perks=perks
            )
    for name, description, cost, stock, active in REWARDS:
        if not Reward.objects.filter(name=name).exists():
            services.create_reward(
                name=name,
                description=description,
                cost=cost,
                stock=stock,
                is_active=active,
            )
    return program


@transaction.atomic
def seed_loyalty_demo(seed: int = 1) -> LoyaltySeedSummary:
    """Members with points for the demo customers; does nothing if any exist."""
    summary = LoyaltySeedSummary()
    if Membership.objects.exists():
        summary.skipped = True
        return summary
    program = _set_up_program()
    if not program.is_active:
        summary.skipped = True
        return summary
    rng = random.Random(seed)
    buyers = list(
        Customer.objects.filter(first_purchase_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    members = [pk for pk in buyers if rng.random() < MEMBER_SHARE]
    _enrol(members, program)
    # In id order: earn_for_purchases sorts them so anyway, which made the
    # database's sort of half a million of them by date wasted work.
    purchases = (
        Purchase.objects.filter(customer_id__in=Membership.objects.values("customer"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    services.earn_for_purchases(list(purchases))
    summary.members = len(members)
    summary.points_earned = (
        PointsEntry.objects.filter(kind=PointsEntry.Kind.EARN).aggregate(
            total=Sum("points")
        )["total"]
        or 0
    )
    summary.points_expired = services.expire_points()
    summary.redemptions = _redeem_some(rng)
    services.recalculate_tiers()
    return summary


def _enrol(members: list[int], program: Program) -> None:
    """Make the customers members, with the welcome bonus, joined at their first
    purchase (enroll_customers, the one enrolment rule, then their dates)."""
    for start in range(0, len(members), ENROL_BATCH):
        services.enroll_customers(members[start : start + ENROL_BATCH], program=program)
    Membership.objects.update(
        enrolled_at=Subquery(
            Customer.objects.filter(pk=OuterRef("customer_id")).values(
                "first_purchase_at"
            )[:1]
        )
    )


def _redeem_some(rng: random.Random) -> int:
    rewards = list(Reward.objects.available().order_by("cost"))
    if not rewards:
        return 0
    cheapest = rewards[0].cost
    # Only what the draws need: tens of thousands of members qualify, a few
    # hundred redeem, and their customers are read one by one below.
    candidates = list(
        Membership.objects.filter(balance__gte=cheapest)
        .only("pk", "balance", "customer_id")
        .order_by("pk")
    )
    chosen = [m for m in candidates if rng.random() < REDEEMING_SHARE]
    made = 0
    for membership in chosen[:MAX_DEMO_REDEMPTIONS]:
        affordable = [r for r in rewards if r.cost <= membership.balance]
        reward = rng.choice(affordable)
        try:
            services.redeem(membership.customer, reward)
        except services.LoyaltyError:
            continue  # sold out meanwhile, or points not spendable yet
        made += 1
        # Now and then a redemption was a mistake and is cancelled.
        if rng.random() < 0.05:
            redemption = membership.redemptions.order_by("-pk").first()
            services.cancel_redemption(redemption)
    return made


def seed_demo_summary(seed: int) -> str:
    """``seed_demo``'s loyalty step (settings.CRM_DEMO_SEEDERS): its summary line."""
    made = seed_loyalty_demo(seed)
    if made.skipped:
        return "Loyalty: members exist already; no demo members added."
    return (
        f"Loyalty: {made.members} members, {made.points_earned} points earned, "
        f"{made.points_expired} expired, {made.redemptions} redemptions."
    )
