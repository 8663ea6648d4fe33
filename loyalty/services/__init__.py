"""Every change of state in the loyalty program (interface: DESIGN.md).

Each function runs in one transaction, locks the membership whose balance it
changes (``select_for_update``), writes the ledger entry and the balance together,
and records who did it. Refusals are ``LoyaltyError``s (ValidationErrors) and
change nothing.
"""

from .bulk_earning import earn_for_purchases
from .catalogue import (
    create_reward,
    create_tier,
    delete_tier,
    save_program,
    update_reward,
    update_tier,
)
from .earning import earn_for_purchase, reverse_for_refund
from .enrolment import enroll, enroll_customers, grant_birthday_bonuses
from .errors import (
    InsufficientPoints,
    LoyaltyError,
    NotAMember,
    ProgramInactive,
    RedemptionAlreadyCancelled,
    RewardSoldOut,
    RewardUnavailable,
)
from .expiry import expire_points
from .merging import merge_memberships
from .spending import adjust, cancel_redemption, import_opening_balance, redeem
from .tiers import apply_tiers, recalculate_tiers

__all__ = [
    "InsufficientPoints",
    "LoyaltyError",
    "NotAMember",
    "ProgramInactive",
    "RedemptionAlreadyCancelled",
    "RewardSoldOut",
    "RewardUnavailable",
    "adjust",
    "apply_tiers",
    "cancel_redemption",
    "create_reward",
    "create_tier",
    "delete_tier",
    "earn_for_purchase",
    "earn_for_purchases",
    "enroll",
    "enroll_customers",
    "expire_points",
    "grant_birthday_bonuses",
    "import_opening_balance",
    "merge_memberships",
    "recalculate_tiers",
    "redeem",
    "reverse_for_refund",
    "save_program",
    "update_reward",
    "update_tier",
]
