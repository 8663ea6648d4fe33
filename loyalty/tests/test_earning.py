"""Earning: every purchase of a member earns exactly once, at the tier's rate."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from customers import services as customer_services
from customers.models import Purchase
from customers.signals import purchases_bulk_recorded
from customers.tests.factories import CustomerFactory, PurchaseFactory
from loyalty import services
from loyalty.models import Membership, PointsEntry, Program, add_months
from loyalty.services.earning import earn_entry

from .factories import TierFactory, buy, run_program

pytestmark = pytest.mark.django_db


def ledger(customer) -> list[tuple[str, int]]:
    return list(
        PointsEntry.objects.filter(customer=customer)
        .order_by("pk")
        .values_list("kind", "points")
    )


def test_purchase_earns_points_per_unit_rounded_down(program, customer):
    run_program(earn_rate=Decimal("2.5"))
    buy(customer, "10.39")  # 25.975 points
    membership = Membership.objects.get(customer=customer)
    assert membership.balance == 25
    assert ledger(customer) == [("earn", 25)]


def test_earned_lot_records_purchase_amount_expiry_and_pending(customer):
    run_program(expiry_months=6, pending_days=14)
    bought_at = timezone.now() - timedelta(days=3)
    purchase = buy(customer, "40.00", at=bought_at)
    entry = PointsEntry.objects.get(purchase=purchase)
    earned_on = timezone.localdate(bought_at)
    assert entry.kind == "earn"
    assert entry.amount == Decimal("40.00")
    assert entry.remaining == 40
    assert entry.occurred_at == bought_at
    assert entry.expires_on == add_months(earned_on, 6)
    assert entry.available_on == earned_on + timedelta(days=14)


def test_no_expiry_when_program_says_never(customer):
    run_program(expiry_months=0)
    purchase = buy(customer, "5")
    assert PointsEntry.objects.get(purchase=purchase).expires_on is None


def test_first_purchase_enrols_with_the_welcome_bonus(customer):
    run_program(welcome_bonus=50)
    buy(customer, "10")
    assert Membership.objects.get(customer=customer).balance == 60
    assert ledger(customer) == [("bonus", 50), ("earn", 10)]


def test_without_auto_enrolment_a_non_member_earns_nothing(customer):
    run_program(auto_enroll=False)
    buy(customer, "10")
    assert not Membership.objects.filter(customer=customer).exists()
    assert not PointsEntry.objects.exists()


def test_a_member_earns_without_auto_enrolment(customer):
    run_program(auto_enroll=False)
    services.enroll(customer)
    buy(customer, "10")
    assert Membership.objects.get(customer=customer).balance == 10


def test_nothing_is_earned_while_the_program_is_off(customer):
    run_program()
    services.enroll(customer)
    run_program(is_active=False)
    buy(customer, "10")
    assert Membership.objects.get(customer=customer).balance == 0


def test_tier_multiplier_applies(program, customer):
    gold = TierFactory(name="Gold", threshold=Decimal("0"), multiplier=Decimal("1.5"))
    services.enroll(customer)
    services.recalculate_tiers()
    assert Membership.objects.get(customer=customer).tier == gold
    buy(customer, "15")
    assert ledger(customer) == [("earn", 22)]


def test_purchase_too_small_to_earn_writes_nothing(program, customer):
    buy(customer, "0.99")
    assert Membership.objects.get(customer=customer).balance == 0
    assert not PointsEntry.objects.exists()


def test_the_same_order_recorded_twice_earns_once(program, customer):
    first = buy(customer, "30", reference="ORD-1")
    again = buy(customer, "30", reference="ORD-1")
    assert first.pk == again.pk
    assert ledger(customer) == [("earn", 30)]


def test_earning_again_for_a_purchase_returns_the_first_entry(program, customer):
    purchase = buy(customer, "30")
    entry = services.earn_for_purchase(purchase)
    assert entry == PointsEntry.objects.get(purchase=purchase)
    assert Membership.objects.get(customer=customer).balance == 30


def test_database_refuses_a_second_earn_for_a_purchase(program, customer):
    purchase = buy(customer, "30")
    earn = PointsEntry.objects.get(purchase=purchase)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            membership=earn.membership,
            customer=customer,
            kind="earn",
            points=30,
            remaining=30,
            purchase=purchase,
        )


def test_bulk_signal_sent_twice_earns_once(program):
    members = CustomerFactory.create_batch(3)
    purchases = [
        PurchaseFactory(customer=c, amount=Decimal(amount))
        for c, amount in zip(members, ["10", "20.50", "33"], strict=True)
    ]
    ids = [p.pk for p in purchases]
    purchases_bulk_recorded.send(sender=Purchase, purchase_ids=ids, by=None)
    purchases_bulk_recorded.send(sender=Purchase, purchase_ids=ids, by=None)
    assert sorted(Membership.objects.values_list("balance", flat=True)) == [10, 20, 33]
    assert PointsEntry.objects.filter(kind="earn").count() == 3


def test_bulk_earning_agrees_with_one_by_one(program):
    """The set-wise path and record_purchase give the same lots, to the point."""
    run_program(welcome_bonus=5, pending_days=3, expiry_months=2)
    TierFactory(name="Silver", threshold=Decimal("50"), multiplier=Decimal("1.25"))
    one_by_one, bulk = CustomerFactory(), CustomerFactory()
    base = timezone.now() - timedelta(days=40)
    amounts = ["12.34", "60", "7.99", "0.50", "101"]
    for day, amount in enumerate(amounts):
        buy(one_by_one, amount, at=base + timedelta(days=day))
    rows = [
        PurchaseFactory(
            customer=bulk,
            amount=Decimal(amount),
            occurred_at=base + timedelta(days=day),
        )
        for day, amount in enumerate(amounts)
    ]
    # The bulk import earns a chunk at a time: one purchase per chunk here, so
    # the tier reached after the second purchase applies to the third.
    for row in rows:
        services.earn_for_purchases([row.pk])

    def lots(customer):
        return list(
            PointsEntry.objects.filter(customer=customer)
            .order_by("occurred_at", "pk")
            .values_list("kind", "points", "amount", "available_on", "expires_on")
        )

    assert lots(one_by_one) == lots(bulk)
    assert [kind for kind, *_ in lots(bulk)] == ["earn"] * 4 + ["bonus"]
    first, second = (Membership.objects.get(customer=c) for c in (one_by_one, bulk))
    assert first.balance == second.balance
    assert first.tier_id == second.tier_id is not None


def test_bulk_earning_enrols_non_members_with_their_welcome_bonus():
    run_program(welcome_bonus=20)
    customer = CustomerFactory()
    purchase = PurchaseFactory(customer=customer, amount=Decimal("10"))
    assert services.earn_for_purchases([purchase.pk]) == 1
    assert Membership.objects.get(customer=customer).balance == 30
    assert ledger(customer) == [("bonus", 20), ("earn", 10)]


def test_bulk_earning_skips_non_members_without_auto_enrolment():
    run_program(auto_enroll=False)
    member, other = CustomerFactory(), CustomerFactory()
    services.enroll(member)
    ids = [
        PurchaseFactory(customer=member, amount=Decimal("10")).pk,
        PurchaseFactory(customer=other, amount=Decimal("10")).pk,
    ]
    assert services.earn_for_purchases(ids) == 1
    assert not Membership.objects.filter(customer=other).exists()


def test_bulk_earning_off_when_program_is_off():
    run_program(is_active=False)
    purchase = PurchaseFactory(amount=Decimal("10"))
    assert services.earn_for_purchases([purchase.pk]) == 0
    assert not PointsEntry.objects.exists()


def test_old_purchase_earns_a_lot_that_expiry_then_removes(program, customer):
    bought_at = timezone.now() - timedelta(days=400)
    purchase = buy(customer, "25", at=bought_at)
    lot = PointsEntry.objects.get(purchase=purchase)
    assert lot.expires_on <= timezone.localdate()
    assert services.expire_points() == 25
    assert Membership.objects.get(customer=customer).balance == 0


def test_expiry_date_is_counted_from_the_purchase_day(customer):
    run_program(expiry_months=1)
    bought_at = timezone.make_aware(timezone.datetime(2024, 1, 31, 15, 0))
    purchase = buy(customer, "10", at=bought_at)
    assert PointsEntry.objects.get(purchase=purchase).expires_on == date(2024, 2, 29)


def test_purchase_recorded_in_a_rolled_back_transaction_earns_nothing(
    program, customer
):
    with transaction.atomic():
        buy(customer, "10")
        transaction.set_rollback(True)
    assert not PointsEntry.objects.exists()
    assert not Membership.objects.exists()


def test_record_purchase_through_customers_service_is_the_earning_door(
    program, customer
):
    customer_services.record_purchase(
        customer=customer, amount="9.99", occurred_at=timezone.now()
    )
    assert ledger(customer) == [("earn", 9)]


@pytest.mark.parametrize("row_by_row", [False, True], ids=["set-wise", "row by row"])
def test_a_purchases_file_imported_twice_earns_once(program, row_by_row):
    from io import BytesIO

    from customers.purchase_import import PurchaseImporter

    CustomerFactory(reference="C-1")
    CustomerFactory(reference="C-2")
    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    text = (
        "customer,occurred_at,amount,reference\n"
        f"C-1,{day},25.50,ORD-1\n"
        f"C-2,{day},10.00,ORD-2\n"
        f"C-1,{day},4.99,\n"
    ).encode()
    for _ in range(2):
        PurchaseImporter(row_by_row=row_by_row).run(BytesIO(text))
    balances = dict(Membership.objects.values_list("customer__reference", "balance"))
    assert balances == {"C-1": 29, "C-2": 10}
    assert PointsEntry.objects.filter(kind="earn").count() == 3


@override_settings(TIME_ZONE="Pacific/Auckland")
def test_bulk_dates_follow_the_business_day_and_month_ends():
    run_program(expiry_months=1, pending_days=2)
    customer = CustomerFactory()
    moments = [
        datetime(2025, 2, 28, 12, 0, tzinfo=UTC),  # 1 March, 01:00 in Auckland
        datetime(2025, 1, 31, 10, 0, tzinfo=UTC),  # 31 January, 23:00
        datetime(2024, 1, 30, 12, 0, tzinfo=UTC),  # 31 January 2024, 01:00
    ]
    ids = [
        PurchaseFactory(customer=customer, amount=Decimal("10"), occurred_at=m).pk
        for m in moments
    ]
    services.earn_for_purchases(ids)
    dates = list(
        PointsEntry.objects.filter(purchase_id__in=ids)
        .order_by("purchase_id")
        .values_list("available_on", "expires_on")
    )
    assert dates == [
        (date(2025, 3, 3), date(2025, 4, 1)),
        (date(2025, 2, 2), date(2025, 2, 28)),
        (date(2024, 2, 2), date(2024, 2, 29)),
    ]
    # The one-by-one path computes the same dates.
    program = Program.current()
    assert [
        (entry.available_on, entry.expires_on)
        for entry in (
            earn_entry(program, 0, purchase, Decimal("1"))
            for purchase in Purchase.objects.filter(pk__in=ids).order_by("pk")
        )
    ] == dates
