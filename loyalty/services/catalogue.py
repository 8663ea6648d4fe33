"""The Owner's settings: the program's rules, its tiers and its rewards."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction

from ..models import Membership, Program, Reward, Tier
from .ledger import lock_memberships_by_id
from .tiers import apply_tiers, recalculate_tiers

PROGRAM_FIELDS = {
    "name",
    "is_active",
    "earn_rate",
    "point_value",
    "welcome_bonus",
    "birthday_bonus",
    "expiry_months",
    "auto_enroll",
    "pending_days",
    "tier_basis",
}
TIER_FIELDS = {"name", "threshold", "multiplier", "perks"}
REWARD_FIELDS = {"name", "description", "cost", "is_active", "stock"}


def _check_fields(fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unknown fields: {sorted(unknown)}")


# Defined beside the code that queues it (loyalty.tasks lists it too); beat
# sends it by this name every night.
@shared_task(name="loyalty.tasks.recalculate_tiers_task")
def recalculate_tiers_task() -> int:
    """Move members whose 12-month window no longer fits their tier."""
    return len(recalculate_tiers())


def _recalculate_tiers_after_commit() -> None:
    recalculate_tiers_task.delay_on_commit()


@transaction.atomic
def save_program(*, by=None, **fields: Any) -> Program:
    """Change the program's rules; members' tiers follow a change of basis."""
    _check_fields(fields, PROGRAM_FIELDS)
    program = Program.objects.select_for_update(no_key=True).filter(
        pk=Program.SINGLE_ROW_ID
    ).first() or Program(pk=Program.SINGLE_ROW_ID)
    old_basis = program.tier_basis if program.updated_at else None
    for name, value in fields.items():
        setattr(program, name, value)
    program.full_clean()
    program.save()
    if old_basis is not None and old_basis != program.tier_basis:
        _recalculate_tiers_after_commit()
    return program


@transaction.atomic
def create_tier(**fields: Any) -> Tier:
    _check_fields(fields, TIER_FIELDS)
    tier = Tier(**fields)
    tier.full_clean()
    tier.save()
    _recalculate_tiers_after_commit()
    return tier


@transaction.atomic
def update_tier(*, tier: Tier, **fields: Any) -> Tier:
    _check_fields(fields, TIER_FIELDS)
    locked = Tier.objects.select_for_update(no_key=True).get(pk=tier.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    if "threshold" in fields:
        _recalculate_tiers_after_commit()
    return locked


@transaction.atomic
def delete_tier(*, tier: Tier) -> None:
    """Remove a tier; its members move to the tier their window supports now."""
    members = list(
        lock_memberships_by_id(
            Membership.objects.filter(tier=tier).values_list("pk", flat=True)
        )
    )
    apply_tiers(members, tiers=Tier.objects.exclude(pk=tier.pk))
    tier.delete()


@transaction.atomic
def create_reward(**fields: Any) -> Reward:
    _check_fields(fields, REWARD_FIELDS)
    reward = Reward(**fields)
    reward.full_clean()
    reward.save()
    return reward


@transaction.atomic
def update_reward(*, reward: Reward, **fields: Any) -> Reward:
    """Change a reward; a lock keeps a stock edit from undoing a redemption."""
    _check_fields(fields, REWARD_FIELDS)
    locked = Reward.objects.select_for_update(no_key=True).get(pk=reward.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    return locked
