"""Real threads, each with its own PostgreSQL connection, racing for the same rows.

The data is committed (transaction=True) so every thread sees it; a barrier lets
them go at once. Row locks, not luck, decide who wins.
"""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from customers.tests.factories import CustomerFactory, PurchaseFactory
from loyalty import services
from loyalty.models import Membership, PointsEntry, Redemption, Reward

from .factories import RewardFactory, buy, run_program

# The roles fixture puts back the Staff and Owner groups the migration made,
# which a transactional test's flush empties.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("roles")]


def race(count: int, attempt: Callable[[int], str]) -> Counter:
    """Run `attempt(i)` in `count` threads at once; count their outcomes."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcome = attempt(index)
        except Exception as error:  # noqa: BLE001 - every outcome is counted
            outcome = type(error).__name__
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return Counter(outcomes)


def audit_output() -> str:
    out = StringIO()
    call_command("loyalty_audit", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("rewards", [1, 20], ids=["one reward", "twenty rewards"])
def test_twenty_redemptions_of_a_balance_that_covers_five(rewards):
    # With one reward its row lock alone would serialise them; with twenty
    # rewards only the member's lock stands between them and an overdraft.
    run_program()
    customer = CustomerFactory()
    buy(customer, "500")
    catalogue = RewardFactory.create_batch(rewards, cost=100)

    def attempt(index):
        services.redeem(customer, catalogue[index % rewards])
        return "redeemed"

    outcomes = race(20, attempt)
    assert outcomes == Counter({"redeemed": 5, "InsufficientPoints": 15})
    membership = Membership.objects.get(customer=customer)
    assert membership.balance == 0
    assert Redemption.objects.count() == 5
    assert "All 1 balances match" in audit_output()


def test_ten_redeemers_of_a_reward_with_stock_three():
    run_program()
    customers = CustomerFactory.create_batch(10)
    for customer in customers:
        buy(customer, "500")
    reward = RewardFactory(cost=100, stock=3)

    def attempt(index):
        services.redeem(customers[index], reward)
        return "redeemed"

    outcomes = race(10, attempt)
    assert outcomes == Counter({"redeemed": 3, "RewardSoldOut": 7})
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Redemption.objects.count() == 3
    assert (
        sorted(Membership.objects.values_list("balance", flat=True))
        == [400] * 3 + [500] * 7
    )
    assert "All 10 balances match" in audit_output()


def test_one_purchase_earned_from_ten_threads_earns_once():
    run_program(welcome_bonus=5)
    customer = CustomerFactory()
    purchase = PurchaseFactory(customer=customer, amount=Decimal("80"))

    def attempt(index):
        # Half through the single door, half through the set-wise one.
        if index % 2:
            services.earn_for_purchase(purchase)
        else:
            services.earn_for_purchases([purchase.pk])
        return "done"

    outcomes = race(10, attempt)
    assert outcomes == Counter({"done": 10})
    assert PointsEntry.objects.filter(kind="earn").count() == 1
    assert PointsEntry.objects.filter(kind="bonus").count() == 1
    assert Membership.objects.get(customer=customer).balance == 85
    assert "All 1 balances match" in audit_output()


def test_redeeming_while_points_expire_never_spends_a_point_twice():
    run_program()
    customer = CustomerFactory()
    buy(customer, "300", at=timezone.now() - timedelta(days=400))  # due to expire
    buy(customer, "250")
    reward = RewardFactory(cost=100)

    def attempt(index):
        if index == 0:
            services.expire_points()
            return "expired"
        services.redeem(customer, reward)
        return "redeemed"

    outcomes = race(6, attempt)
    assert outcomes == Counter({"expired": 1, "redeemed": 2, "InsufficientPoints": 3})
    assert Membership.objects.get(customer=customer).balance == 50
    assert "All 1 balances match" in audit_output()
