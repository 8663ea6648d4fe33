"""Property: whatever the sequence of operations, balance = sum of ledger ≥ 0.

Hypothesis draws sequences of purchases (earn), redemptions, adjustments,
refunds, cancellations and expiry runs; after every step the member's balance
must equal the sum of the ledger and what is left of the lots, and never be
negative. Each example runs in a transaction rolled back at its end.
"""

import contextlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers import services as customer_services
from customers.tests.factories import CustomerFactory
from loyalty import services
from loyalty.models import Membership, PointsEntry

from .factories import RewardFactory, buy, run_program

pytestmark = pytest.mark.django_db

operations = st.one_of(
    st.tuples(
        st.just("buy"),
        st.integers(min_value=0, max_value=30_000),  # cents
        st.integers(min_value=0, max_value=500),  # days ago
    ),
    st.tuples(st.just("redeem"), st.integers(min_value=1, max_value=250)),
    st.tuples(
        st.just("adjust"),
        st.integers(min_value=-200, max_value=200).filter(bool),
    ),
    st.tuples(
        st.just("refund"),
        st.integers(min_value=0, max_value=20),  # which purchase
        st.integers(min_value=1, max_value=100),  # percent of what is left
    ),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("expire"), st.integers(min_value=0, max_value=400)),
)


def check_invariant(membership_id: int) -> None:
    membership = Membership.objects.get(pk=membership_id)
    totals = PointsEntry.objects.filter(membership_id=membership_id).aggregate(
        points=Sum("points"), left=Sum("remaining")
    )
    assert membership.balance >= 0
    assert membership.balance == (totals["points"] or 0) == (totals["left"] or 0)


def apply(step, customer, owner, purchases, redemptions) -> None:
    kind, *args = step
    if kind == "buy":
        cents, days_ago = args
        at = timezone.now() - timedelta(days=days_ago)
        purchases.append(buy(customer, Decimal(cents) / 100, at=at))
    elif kind == "redeem":
        redemptions.append(services.redeem(customer, RewardFactory(cost=args[0])))
    elif kind == "adjust":
        services.adjust(customer, args[0], reason="Property test", by=owner)
    elif kind == "refund" and purchases:
        purchase = purchases[args[0] % len(purchases)]
        purchase.refresh_from_db()
        left = purchase.amount - purchase.refunded_amount
        amount = (left * args[1] / 100).quantize(Decimal("0.01"))
        customer_services.refund_purchase(purchase=purchase, amount=amount)
    elif kind == "cancel" and redemptions:
        services.cancel_redemption(redemptions[args[0] % len(redemptions)])
    elif kind == "expire":
        services.expire_points(today=timezone.localdate() + timedelta(days=args[0]))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(operations, min_size=1, max_size=15))
def test_balance_always_equals_the_ledger_and_is_never_negative(owner_user, steps):
    with transaction.atomic():
        run_program(pending_days=7, expiry_months=6)
        customer = CustomerFactory()
        membership = services.enroll(customer)
        purchases, redemptions = [], []
        for step in steps:
            # A refusal (too few points, nothing to refund...) changes nothing.
            with contextlib.suppress(ValidationError):
                apply(step, customer, owner_user, purchases, redemptions)
            check_invariant(membership.pk)
        transaction.set_rollback(True)
