"""The demo: a running program, members with points, and a clean audit."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from customers.demo import seed_demo_data
from loyalty.demo import seed_loyalty_demo
from loyalty.models import Membership, PointsEntry, Program, Redemption, Tier

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(
        Membership.objects.values_list("customer__email", "balance", "tier__name")
    )


def seeded(seed: int):
    """The members a seed gives, rolled back afterwards."""
    with transaction.atomic():
        seed_demo_data(customers=60, seed=seed)
        seed_loyalty_demo(seed=seed)
        members = snapshot()
        assert seed_loyalty_demo(seed=seed).skipped
        assert snapshot() == members
        transaction.set_rollback(True)
    return members


def test_demo_has_members_points_tiers_and_a_clean_audit():
    seed_demo_data(customers=120, seed=3)
    summary = seed_loyalty_demo(seed=3)
    program = Program.current()
    assert program.is_active and Tier.objects.count() == 2
    assert summary.members == Membership.objects.count() > 30
    assert summary.points_earned > 0 and summary.redemptions > 0
    assert Membership.objects.filter(tier__isnull=False).exists()
    assert PointsEntry.objects.filter(kind="expire").exists()
    assert Redemption.objects.count() >= summary.redemptions
    out = StringIO()
    call_command("loyalty_audit", stdout=out)
    assert "balances match" in out.getvalue()


def test_demo_is_deterministic_and_runs_once():
    first = seeded(5)
    assert first and all(balance >= 0 for _, balance, _ in first)
    assert seeded(5) == first
