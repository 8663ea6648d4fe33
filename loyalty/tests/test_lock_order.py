"""Every service that changes a customer's rows, racing on the same customers.

Real threads, each with its own PostgreSQL connection: purchases, refunds,
redemptions, adjustments, cancelled redemptions, completed follow-ups, expiry and
merges go at once on a handful of members. With one lock order
(customers.locking) none of them may deadlock: each operation is either done or
refused with its own domain error, and afterwards every balance equals its ledger
and every customer's running figures equal their purchases, recomputed here.

The normal suite runs a few rounds; ``pytest -m soak`` runs many more
(docs/benchmarks.md has its figures).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, FollowUp, Purchase
from customers.tests.factories import CustomerFactory
from loyalty import services
from loyalty.models import Membership, PointsEntry, Redemption
from loyalty.services import LoyaltyError

from .factories import RewardFactory, buy, run_program

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("roles")]

# Refusals a caller is told about in words; anything else is an error.
DOMAIN_ERRORS = (LoyaltyError, ValidationError, customer_services.FollowUpAlreadyDone)


def race(attempts: list) -> tuple[Counter, list[str]]:
    """Run every attempt in its own thread at once: outcome counts, errors."""
    barrier = threading.Barrier(len(attempts))
    outcomes: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def run(attempt) -> None:
        name, call = attempt
        try:
            barrier.wait(timeout=30)
            call()
            outcome = f"{name}: done"
        except DOMAIN_ERRORS as error:
            outcome = f"{name}: refused ({type(error).__name__})"
        except Exception as error:  # noqa: BLE001 - every outcome is counted
            outcome = f"{name}: ERROR ({type(error).__name__})"
            with lock:
                errors.append(f"{name}: {error!r}")
        finally:
            connection.close()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes, errors


def make_shop(members: int):
    program = run_program(expiry_months=12)
    owner = _owner()
    rewards = RewardFactory.create_batch(2, cost=50) + [RewardFactory(cost=30, stock=3)]
    customers = CustomerFactory.create_batch(members)
    old = timezone.now() - timedelta(days=400)  # lots that are due to expire
    for customer in customers:
        buy(customer, "120", at=old)
        buy(customer, "200")
        customer_services.log_interaction(
            customer=customer,
            kind="call",
            by=owner,
            follow_up_on=timezone.localdate(),
        )
    return program, owner, rewards, customers


def _owner():
    from django.contrib.auth.models import Group

    from customers.roles import OWNER
    from customers.tests.factories import UserFactory

    user = UserFactory(username=f"owner-{random.random()}")
    user.groups.add(Group.objects.get(name=OWNER))
    return user


def one_round(customers, owner, rewards, rng: random.Random, merges: int) -> list:
    """A mixed batch of operations on the same few customers."""
    attempts = []
    purchases = list(Purchase.objects.filter(customer__in=customers))
    redemptions = list(Redemption.objects.filter(status="active"))
    follow_ups = list(FollowUp.objects.filter(completed_at__isnull=True))
    for customer in customers:
        attempts.append(
            (
                "purchase",
                lambda c=customer: customer_services.record_purchase(
                    customer=c,
                    amount=Decimal(rng.randint(1, 90)),
                    occurred_at=timezone.now(),
                ),
            )
        )
        for reward in rewards[:2]:
            attempts.append(
                ("redeem", lambda c=customer, r=reward: services.redeem(c, r))
            )
        points = rng.choice([-40, 25])
        attempts.append(
            (
                "adjust",
                lambda c=customer, p=points: services.adjust(
                    c, p, reason="race", by=owner
                ),
            )
        )
    attempts.append(
        ("redeem limited", lambda: services.redeem(customers[0], rewards[2]))
    )
    for purchase in rng.sample(purchases, min(3, len(purchases))):
        attempts.append(
            (
                "refund",
                lambda p=purchase: customer_services.refund_purchase(
                    purchase=p, amount=Decimal("10")
                ),
            )
        )
    for redemption in redemptions[:2]:
        attempts.append(
            ("cancel", lambda r=redemption: services.cancel_redemption(r, by=owner))
        )
    for follow_up in follow_ups[:2]:
        attempts.append(
            (
                "follow-up",
                lambda f=follow_up: customer_services.complete_follow_up(
                    follow_up=f, by=owner, kind="call"
                ),
            )
        )
    attempts.append(("expiry", services.expire_points))
    for keep in customers[:merges]:
        duplicate = CustomerFactory()
        buy(duplicate, "70")
        attempts.append(
            (
                "merge",
                lambda k=keep, d=duplicate: customer_services.merge_customers(
                    keep=k, merge=d, by=owner
                ),
            )
        )
    rng.shuffle(attempts)
    return attempts


def assert_books_balance() -> None:
    out = StringIO()
    call_command("loyalty_audit", stdout=out)
    assert "mismatch" not in out.getvalue().lower(), out.getvalue()
    for membership in Membership.objects.all():
        ledger = PointsEntry.objects.filter(membership=membership).aggregate(
            total=Sum("points")
        )["total"]
        assert membership.balance == (ledger or 0) >= 0
    # The running figures, recomputed here from the purchases themselves.
    for customer in Customer.objects.all():
        rows = list(customer.purchases.values_list("amount", "refunded_amount"))
        assert customer.orders_count == len(rows)
        assert customer.total_spent == sum((a - r for a, r in rows), Decimal("0"))


def run_rounds(rounds: int, members: int, seed: int) -> Counter:
    rng = random.Random(seed)
    _, owner, rewards, customers = make_shop(members)
    totals: Counter = Counter()
    errors: list[str] = []
    for _ in range(rounds):
        outcomes, round_errors = race(one_round(customers, owner, rewards, rng, 1))
        totals += outcomes
        errors += round_errors
        assert_books_balance()
    done = sum(n for k, n in totals.items() if k.endswith("done"))
    refused = sum(n for k, n in totals.items() if "refused" in k)
    failed = sum(n for k, n in totals.items() if "ERROR" in k)
    print(
        f"\nlock order race: {rounds} rounds, {sum(totals.values())} operations, "
        f"{done} done, {refused} refused, {failed} errors"
    )
    for outcome, count in sorted(totals.items()):
        print(f"  {outcome}: {count}")
    assert failed == 0, errors[:5]
    return totals


def test_every_service_racing_on_the_same_members_never_deadlocks():
    totals = run_rounds(rounds=3, members=3, seed=13)
    # Each kind of operation went through at least once somewhere.
    for name in ("purchase", "redeem", "adjust", "refund", "expiry", "merge"):
        assert totals[f"{name}: done"] > 0, totals


@pytest.mark.soak
def test_soak_every_service_racing_on_the_same_members():
    run_rounds(rounds=40, members=4, seed=1313)
