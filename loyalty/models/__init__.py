"""Loyalty program: Program, Tier, Reward, Membership, PointsEntry, Redemption.

Every change of state goes through ``loyalty.services``. A membership's balance is
a cache of its append-only PointsEntry ledger, kept equal to it (and to what is
left of its lots) in the same transaction as each entry; ``loyalty_audit`` checks.
"""

from .activity import Redemption, TierChange
from .ledger import (
    Membership,
    MembershipQuerySet,
    PointsEntry,
    PointsEntryQuerySet,
)
from .program import Program, Reward, RewardQuerySet, Tier, add_months

__all__ = [
    "Membership",
    "MembershipQuerySet",
    "PointsEntry",
    "PointsEntryQuerySet",
    "Program",
    "Redemption",
    "Reward",
    "RewardQuerySet",
    "Tier",
    "TierChange",
    "add_months",
]
