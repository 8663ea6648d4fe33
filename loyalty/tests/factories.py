"""Factories and helpers for loyalty tests: rows go in through the services."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from customers import services as customer_services
from customers.models import Purchase
from loyalty import services
from loyalty.models import Program, Reward, Tier


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    name = factory.Sequence(lambda n: f"Tier {n}")
    threshold = factory.Sequence(lambda n: Decimal(100 * (n + 1)))
    multiplier = Decimal("1")


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Reward {n}")
    cost = 100
    is_active = True
    stock = None


def run_program(**rules) -> Program:
    """The program switched on: 1 point per unit, no bonuses, 12-month expiry."""
    defaults = {
        "is_active": True,
        "earn_rate": Decimal("1"),
        "welcome_bonus": 0,
        "birthday_bonus": 0,
        "expiry_months": 12,
        "auto_enroll": True,
        "pending_days": 0,
    }
    return services.save_program(**{**defaults, **rules})


def buy(
    customer, amount, *, at: datetime | None = None, reference: str | None = None
) -> Purchase:
    """A purchase recorded the way staff record one (loyalty earns from it)."""
    return customer_services.record_purchase(
        customer=customer,
        amount=str(amount),
        occurred_at=at or timezone.now(),
        reference=reference,
    )[0]
