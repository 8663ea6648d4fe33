"""The set-wise purchase import (PostgreSQL) against the row-by-row reference path.

Each tricky file is imported both ways from the same starting point; the reports
(row for row), the stored purchases and the running figures must be the same.
"""

import io
import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from customers import services
from customers.models import Customer, ErasureRecord, Purchase
from customers.purchase_import import PurchaseImporter
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def csv_bytes(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def snapshot():
    purchases = sorted(
        Purchase.objects.values_list(
            "customer__reference",
            "customer__email",
            "occurred_at",
            "amount",
            "reference",
            "currency",
            "channel",
        )
    )
    figures = sorted(
        Customer.objects.values_list(
            "reference",
            "email",
            "orders_count",
            "total_spent",
            "first_purchase_at",
            "last_purchase_at",
        )
    )
    return purchases, figures


def import_both_ways(text: str, **options):
    """(report, state) for each path, each from the same starting point."""
    outcomes = []
    for row_by_row in (True, False):
        with transaction.atomic():
            report = PurchaseImporter(row_by_row=row_by_row, **options).run(
                csv_bytes(text)
            )
            outcomes.append((report, snapshot()))
            transaction.set_rollback(True)
    return outcomes


def described(report):
    return (
        report.rows,
        report.created,
        report.unchanged,
        [(p.line, p.column, p.value, p.message) for p in report.rejected],
    )


TRICKY = (
    "customer,occurred_at,amount,reference,currency,channel\n"
    "C-1,2024-05-01,12.50,ORD-1,,shop\n"
    "ZOE@example.com,2024-05-02T14:30:00+02:00,20.00,,usd,online\n"
    "C-1,2024-05-01,12.50,ORD-1,,shop\n"  # the same order again in the file
    "C-1,2024-05-01,99.00,ORD-1,,shop\n"  # its reference with another amount
    "C-2,2024-05-01,5.00,ORD-OLD,,\n"  # stored already, for C-2
    "C-1,2024-05-01,5.00,ORD-OLD,,\n"  # stored already, for someone else
    "zoe@example.com,2024-05-02T12:30:00Z,20.00,,,\n"  # same moment, no reference
    "C-404,2024-05-04,5.00,ORD-4,,shop\n"
    'C-1,2024-05-03,"12,50",ORD-3,,\n'
    "\n"
    "C-2,2023-01-01,0,,,\n"
    "C-2,2030-01-01T00:00:00Z,1.00,,,\n"
    "C-1,2024-06-01,1.999,,,\n"
)


def test_set_wise_import_matches_row_by_row_on_a_tricky_file():
    CustomerFactory(reference="C-1", email="zoe@example.com")
    c2 = CustomerFactory(reference="C-2", email="")
    services.record_purchase(
        customer=c2,
        amount="5.00",
        occurred_at=timezone.now() - timedelta(days=400),
        reference="ORD-OLD",
    )
    (slow, slow_state), (fast, fast_state) = import_both_ways(TRICKY)
    assert described(fast) == described(slow)
    assert fast_state == slow_state
    assert [p.line for p in fast.rejected] == [5, 7, 9, 10, 13, 14]
    assert (fast.created, fast.unchanged) == (3, 3)


def test_set_wise_create_missing_matches_row_by_row():
    text = (
        "customer,occurred_at,amount\n"
        "NEW-1,2024-01-01,9.99\n"
        "new@example.com,2024-01-02,1.00\n"
        "NEW-1,2024-01-03,2.00\n"
        "not-an-email@,2024-01-03,2.00\n"
    )
    (slow, slow_state), (fast, fast_state) = import_both_ways(text, create_missing=True)
    assert described(fast) == described(slow)
    assert fast_state == slow_state
    assert fast.created == 3


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_set_wise_import_matches_row_by_row_on_random_files(seed):
    rng = random.Random(seed)
    customers = [CustomerFactory(reference=f"R-{n}") for n in range(8)]
    start = timezone.now() - timedelta(days=900)
    lines = ["customer,occurred_at,amount,reference"]
    for _ in range(300):
        who = rng.choice(customers)
        key = who.reference if rng.random() < 0.7 else who.email.upper()
        if rng.random() < 0.05:
            key = "R-UNKNOWN"
        moment = start + timedelta(days=rng.randrange(0, 20))
        amount = rng.choice(["5.00", "7.50", "10.00"])
        reference = f"O-{rng.randrange(0, 80)}" if rng.random() < 0.5 else ""
        lines.append(f"{key},{moment.isoformat()},{amount},{reference}")
    text = "\n".join(lines) + "\n"
    (slow, slow_state), (fast, fast_state) = import_both_ways(text)
    assert described(fast) == described(slow)
    assert fast_state == slow_state
    assert fast.created > 0 and fast.unchanged > 0 and fast.rejected


def test_a_failure_part_way_leaves_no_purchase_of_the_file(monkeypatch):
    from customers import bulk_purchase_sql

    customer = CustomerFactory(reference="C-1")
    text = "customer,occurred_at,amount\n" + "C-1,2024-01-01,3.00\n"

    def broken(figures):
        # After the purchases' COPY, before the figures' UPDATE.
        assert Purchase.objects.exists()
        raise RuntimeError("the database went away")

    monkeypatch.setattr(bulk_purchase_sql, "write_figures", broken)
    with pytest.raises(RuntimeError):
        PurchaseImporter().run(csv_bytes(text))
    assert not Purchase.objects.exists()
    customer.refresh_from_db()
    assert customer.orders_count == 0


def test_the_same_order_twice_in_one_file_is_stored_once():
    CustomerFactory(reference="C-1")
    text = "customer,occurred_at,amount\n" + "C-1,2024-01-01,3.00\n" * 5
    report = PurchaseImporter().run(csv_bytes(text))
    assert (report.created, report.unchanged) == (1, 4)
    report = PurchaseImporter().run(csv_bytes(text.replace("3.00", "4.00")))
    assert (report.created, report.unchanged) == (1, 4)
    assert Customer.objects.get().total_spent == Decimal("7.00")


def test_set_wise_rows_without_reference_matching_a_stored_purchase_are_unchanged():
    customer = CustomerFactory(reference="C-1")
    services.record_purchase(
        customer=customer,
        amount="3.00",
        occurred_at=timezone.make_aware(datetime(2024, 1, 1)),
    )
    text = (
        "customer,occurred_at,amount,reference\n"
        "C-1,2024-01-01,3.00,\n"  # the stored purchase
        "C-1,2024-01-01,3.00,ORD-9\n"  # an order number: a purchase of its own
        "C-1,2024-01-01,3.00,\n"
        "C-1,2024-01-02,3.00,\n"
    )
    (slow, slow_state), (fast, fast_state) = import_both_ways(text)
    assert described(fast) == described(slow)
    assert fast_state == slow_state
    assert (fast.created, fast.unchanged) == (2, 2)


def erased_or_merged_between_match_and_lock(monkeypatch, change):
    """Run `change` after the set-wise import matched its keys, before it locks."""
    from customers import bulk_purchase_sql

    lock = bulk_purchase_sql.lock_customers

    def changed_then_locked(customer_ids):
        change()
        return lock(customer_ids)

    monkeypatch.setattr(bulk_purchase_sql, "lock_customers", changed_then_locked)


def test_set_wise_refuses_a_customer_erased_since_the_match_as_record_purchase(
    monkeypatch,
):
    ann = CustomerFactory(reference="C-1")
    CustomerFactory(reference="C-2")
    erased_or_merged_between_match_and_lock(
        monkeypatch, lambda: ErasureRecord.objects.create(customer=ann)
    )
    text = "customer,occurred_at,amount\nC-1,2024-01-01,3.00\nC-2,2024-01-01,4.00\n"
    report = PurchaseImporter().run(csv_bytes(text))
    assert [(p.line, p.column, p.message) for p in report.rejected] == [
        (2, "", services.ERASED_REFUSAL)
    ]
    assert list(Purchase.objects.values_list("customer__reference", flat=True)) == [
        "C-2"
    ]


def test_set_wise_rejects_the_rows_of_a_customer_merged_away_since_the_match(
    monkeypatch,
):
    kept, gone = CustomerFactory(reference="C-1"), CustomerFactory(reference="C-2")
    erased_or_merged_between_match_and_lock(
        monkeypatch, lambda: services.merge_customers(keep=kept, merge=gone)
    )
    text = "customer,occurred_at,amount\nC-1,2024-01-01,3.00\nC-2,2024-01-01,4.00\n"
    report = PurchaseImporter(create_missing=True).run(csv_bytes(text))
    assert [(p.line, p.value) for p in report.rejected] == [(3, "C-2")]
    assert report.created == 1
    kept.refresh_from_db()
    assert kept.orders_count == 1


def test_a_value_the_database_refuses_in_the_copy_falls_back_to_row_by_row(
    monkeypatch,
):
    # As if the set-wise checks let a channel too long for its column through:
    # the COPY is refused, its transaction rolled back, and row by row reports it.
    from customers import bulk_purchase_rows

    monkeypatch.setattr(
        bulk_purchase_rows,
        "LIMITS",
        (("reference", 64), ("currency", 3), ("channel", 100)),
    )
    CustomerFactory(reference="C-1")
    text = (
        "customer,occurred_at,amount,channel\n"
        "C-1,2024-01-01,3.00,shop\n"
        f"C-1,2024-01-02,4.00,{'x' * 40}\n"
    )
    report = PurchaseImporter().run(csv_bytes(text))
    assert [(p.line, p.column, p.message) for p in report.rejected] == [
        (3, "channel", "Use at most 32 characters.")
    ]
    assert report.created == 1
    assert Purchase.objects.get().channel == "shop"
