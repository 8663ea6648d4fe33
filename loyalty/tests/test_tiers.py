"""Tiers: up and down at the exact thresholds of the 12-month window."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers import services as customer_services
from loyalty import services
from loyalty.models import Membership, TierChange, add_months

from .factories import RewardFactory, TierFactory, buy, run_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers(program):
    return (
        TierFactory(name="Silver", threshold=Decimal("100")),
        TierFactory(name="Gold", threshold=Decimal("500"), multiplier=Decimal("2")),
    )


def tier_of(customer):
    return Membership.objects.select_related("tier").get(customer=customer).tier


def noon(days_ago: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(12)))


def test_tier_rises_on_earning_at_the_exact_threshold(tiers, customer):
    silver, gold = tiers
    buy(customer, "99")
    assert tier_of(customer) is None
    buy(customer, "1")  # exactly 100
    assert tier_of(customer) == silver
    buy(customer, "399")  # 499
    assert tier_of(customer) == silver
    buy(customer, "1")  # exactly 500
    assert tier_of(customer) == gold


def test_tier_falls_when_the_window_no_longer_reaches_it(tiers, customer):
    silver, _ = tiers
    first = buy(customer, "60", at=noon(300))
    buy(customer, "40", at=noon(100))
    assert tier_of(customer) == silver
    # The last day the first purchase is inside the window: still 100.
    last_day = add_months(timezone.localdate(first.occurred_at), 12)
    assert services.recalculate_tiers(today=last_day) == []
    assert tier_of(customer) == silver
    changes = services.recalculate_tiers(today=last_day + timedelta(days=1))
    assert [(c.old_name, c.new_name, c.qualifying) for c in changes] == [
        ("Silver", "", Decimal("40"))
    ]
    assert tier_of(customer) is None


def test_spending_points_does_not_lower_the_tier(tiers, customer):
    silver, _ = tiers
    buy(customer, "150")
    services.redeem(customer, RewardFactory(cost=150))
    services.recalculate_tiers()
    assert tier_of(customer) == silver


def test_refund_lowers_the_tier_when_the_window_no_longer_reaches_it(tiers, customer):
    silver, _ = tiers
    purchase = buy(customer, "120")
    assert tier_of(customer) == silver
    customer_services.refund_purchase(purchase=purchase, amount="20")
    assert tier_of(customer) == silver  # exactly 100 left
    customer_services.refund_purchase(purchase=purchase, amount="1.00")
    assert tier_of(customer) is None  # 99 points


def test_spent_points_taken_back_by_a_refund_still_count_against_the_tier(
    tiers, customer
):
    purchase = buy(customer, "100")
    services.redeem(customer, RewardFactory(cost=100))
    customer_services.refund_purchase(purchase=purchase)
    assert tier_of(customer) is None


def test_spend_basis_counts_money_net_of_refunds(customer):
    run_program(tier_basis="spend", earn_rate=Decimal("0.1"))
    silver = TierFactory(name="Silver", threshold=Decimal("250.00"))
    purchase = buy(customer, "249.99")
    assert tier_of(customer) is None
    buy(customer, "0.01")
    assert tier_of(customer) == silver
    customer_services.refund_purchase(purchase=purchase, amount="0.01")
    assert tier_of(customer) is None


def test_nightly_run_moves_everyone_and_records_each_change(tiers, customer):
    silver, gold = tiers
    services.enroll(customer)
    # Tiers created after the points were earned: only the nightly run notices.
    TierFactory(name="Bronze", threshold=Decimal("0"))
    changes = services.recalculate_tiers()
    assert [(c.old_tier, c.new_name, c.upgrade) for c in changes] == [
        (None, "Bronze", True)
    ]
    assert TierChange.objects.get().membership.customer == customer
    assert services.recalculate_tiers() == []


def test_deleting_a_tier_moves_its_members_and_keeps_the_history(tiers, customer):
    silver, gold = tiers
    buy(customer, "600")
    assert tier_of(customer) == gold
    services.delete_tier(tier=gold)
    assert tier_of(customer) == silver
    change = TierChange.objects.order_by("-pk").first()
    assert (change.old_tier, change.old_name, change.new_name) == (
        None,
        "Gold",
        "Silver",
    )


def test_bulk_earning_moves_tiers_too(tiers, customer):
    from customers.tests.factories import PurchaseFactory

    silver, _ = tiers
    purchase = PurchaseFactory(customer=customer, amount=Decimal("150"))
    services.earn_for_purchases([purchase.pk])
    assert tier_of(customer) == silver
