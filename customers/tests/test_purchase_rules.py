"""The purchase rules on their own: pure functions, no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from customers.purchase_rules import Fate, RunningFigures, purchase_fate

AT = datetime(2024, 5, 1, 12, tzinfo=UTC)


def fate(reference="", holder=None, twin_stored=False, customer=1, amount="5.00"):
    return purchase_fate(
        customer=customer,
        amount=Decimal(amount),
        reference=reference,
        holder=holder,
        twin_stored=twin_stored,
    )


def test_a_new_reference_is_a_new_purchase():
    assert fate("ORD-1") is Fate.NEW


def test_the_same_customers_reference_and_amount_is_the_same_purchase():
    assert fate("ORD-1", holder=(1, Decimal("5"))) is Fate.UNCHANGED


def test_a_reference_held_for_another_amount_or_customer_is_a_conflict():
    assert fate("ORD-1", holder=(1, Decimal("6"))) is Fate.CONFLICT
    assert fate("ORD-1", holder=(2, Decimal("5"))) is Fate.CONFLICT


def test_a_reference_decides_alone_whatever_the_twins():
    assert fate("ORD-1", twin_stored=True) is Fate.NEW


def test_without_reference_a_twin_makes_it_the_same_purchase():
    assert fate() is Fate.NEW
    assert fate(twin_stored=True) is Fate.UNCHANGED


def test_running_figures_count_add_and_move_the_first_and_last():
    figures = RunningFigures()
    figures.add([Decimal("10")], [AT])
    earlier, later = AT - timedelta(days=3), AT + timedelta(days=1)
    figures.add([Decimal("2.50"), Decimal("1")], [earlier, later])
    assert figures == RunningFigures(3, Decimal("13.50"), earlier, later)
    figures.add([], [])
    assert figures.orders_count == 3
