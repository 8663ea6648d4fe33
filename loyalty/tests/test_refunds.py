"""Refunds take back the refunded part's points, never below a zero balance."""

from decimal import Decimal

import pytest

from customers import services as customer_services
from loyalty import services
from loyalty.models import Membership, PointsEntry

from .factories import RewardFactory, TierFactory, buy, run_program

pytestmark = pytest.mark.django_db


def balance(customer) -> int:
    return Membership.objects.get(customer=customer).balance


def refund(purchase, amount=None):
    return customer_services.refund_purchase(
        purchase=purchase, amount=None if amount is None else str(amount)
    )


def test_partial_refund_reverses_its_share(program, customer):
    purchase = buy(customer, "100")
    refund(purchase, "25")
    reversal = PointsEntry.objects.get(kind="reversal")
    assert (reversal.points, reversal.shortfall) == (-25, 0)
    assert reversal.purchase == purchase
    assert balance(customer) == 75


def test_share_is_of_the_points_earned_at_the_tier_multiplier(program, customer):
    TierFactory(threshold=Decimal("0"), multiplier=Decimal("2"))
    services.enroll(customer)
    services.recalculate_tiers()
    purchase = buy(customer, "10")  # 20 points
    refund(purchase, "5")
    assert PointsEntry.objects.get(kind="reversal").points == -10


def test_partial_refunds_add_up_to_the_points_earned(program, customer):
    purchase = buy(customer, "10")  # 10 points
    for _ in range(3):
        refund(purchase, "3.33")  # 3.33 each: 3, 3, 3 by the running total
    refund(purchase)  # the last 0.01 takes the last point
    taken = [
        e.points for e in PointsEntry.objects.filter(kind="reversal").order_by("pk")
    ]
    assert sum(taken) == -10
    assert taken == [-3, -3, -3, -1]
    assert balance(customer) == 0


def test_full_refund_reverses_everything(program, customer):
    other = buy(customer, "40")
    purchase = buy(customer, "60")
    refund(purchase)
    assert balance(customer) == 40
    # Taken from the refunded purchase's own lot first.
    assert PointsEntry.objects.get(purchase=purchase, kind="earn").remaining == 0
    assert PointsEntry.objects.get(purchase=other, kind="earn").remaining == 40


def test_refund_of_spent_points_stops_at_zero_and_records_shortfall(program, customer):
    purchase = buy(customer, "100")
    services.redeem(customer, RewardFactory(cost=80))
    refund(purchase)
    reversal = PointsEntry.objects.get(kind="reversal")
    assert (reversal.points, reversal.shortfall) == (-20, 80)
    assert balance(customer) == 0


def test_refund_when_everything_was_spent_records_only_a_shortfall(program, customer):
    purchase = buy(customer, "50")
    services.redeem(customer, RewardFactory(cost=50))
    refund(purchase, "10")
    reversal = PointsEntry.objects.get(kind="reversal")
    assert (reversal.points, reversal.shortfall) == (0, 10)
    assert balance(customer) == 0


def test_shortfall_counts_so_a_later_refund_does_not_take_it_again(program, customer):
    purchase = buy(customer, "100")
    services.redeem(customer, RewardFactory(cost=100))
    refund(purchase, "50")  # 50 due, nothing to take
    buy(customer, "30")
    refund(purchase, "50")  # 50 more due; 30 there
    reversals = PointsEntry.objects.filter(kind="reversal").order_by("pk")
    assert [(e.points, e.shortfall) for e in reversals] == [(0, 50), (-30, 20)]
    assert balance(customer) == 0


def test_refund_of_a_purchase_that_earned_nothing_changes_nothing(customer):
    run_program(auto_enroll=False)
    purchase = buy(customer, "20")
    refund(purchase)
    assert not PointsEntry.objects.exists()


def test_share_uses_the_amount_stored_when_earned(program, customer):
    # A purchase refunded in part before its points were earned (imports of
    # history) earned on what was left; later refunds are shares of that.
    run_program(is_active=False)
    purchase = buy(customer, "100")
    refund(purchase, "40")
    run_program()
    services.enroll(customer)
    purchase.refresh_from_db()
    earn = services.earn_for_purchase(purchase)
    assert (earn.points, earn.amount) == (60, Decimal("60.00"))
    refund(purchase, "30")
    assert PointsEntry.objects.get(kind="reversal").points == -30
    assert balance(customer) == 30
