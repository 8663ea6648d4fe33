"""Expiry: lots go on their day, oldest first, once; and who has points expiring."""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from loyalty import services
from loyalty.models import Membership, PointsEntry
from loyalty.queries import customers_with_points_expiring

from .factories import RewardFactory, buy, run_program

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


def balance(customer) -> int:
    return Membership.objects.get(customer=customer).balance


def test_expiry_takes_what_is_left_of_the_oldest_lots_only(program, customer):
    older = buy(customer, "30", at=days_ago(300))
    newer = buy(customer, "50", at=days_ago(200))
    services.redeem(customer, RewardFactory(cost=20))  # from the older lot
    older_lot = PointsEntry.objects.get(purchase=older)
    newer_lot = PointsEntry.objects.get(purchase=newer)

    assert services.expire_points(today=older_lot.expires_on) == 10
    assert balance(customer) == 50
    expiry = PointsEntry.objects.get(kind="expire")
    assert (expiry.points, expiry.lot_id) == (-10, older_lot.pk)
    assert expiry.occurred_at == timezone.make_aware(
        datetime.combine(older_lot.expires_on, time.min)
    )
    newer_lot.refresh_from_db()
    assert newer_lot.remaining == 50

    assert services.expire_points(today=newer_lot.expires_on) == 50
    assert balance(customer) == 0


def test_expiry_a_day_early_changes_nothing(program, customer):
    purchase = buy(customer, "30", at=days_ago(300))
    lot = PointsEntry.objects.get(purchase=purchase)
    assert services.expire_points(today=lot.expires_on - timedelta(days=1)) == 0
    assert balance(customer) == 30


def test_second_run_the_same_day_changes_nothing(program, customer):
    buy(customer, "30", at=days_ago(500))
    buy(customer, "40", at=days_ago(450))
    assert services.expire_points() == 70
    entries = PointsEntry.objects.count()
    assert services.expire_points() == 0
    assert PointsEntry.objects.count() == entries
    assert balance(customer) == 0


def test_several_lots_expire_oldest_first(program, customer):
    for days, amount in [(400, "10"), (500, "20"), (450, "30")]:
        buy(customer, amount, at=days_ago(days))
    services.expire_points()
    expired = PointsEntry.objects.filter(kind="expire").order_by("pk")
    assert [e.points for e in expired] == [-20, -30, -10]
    assert [e.occurred_at for e in expired] == [
        timezone.make_aware(datetime.combine(e.lot.expires_on, time.min))
        for e in expired
    ]
    assert [e.reason for e in expired] == [
        f"Expired on {e.lot.expires_on:%Y-%m-%d}" for e in expired
    ]
    assert set(PointsEntry.objects.lots().values_list("remaining", flat=True)) == {0}
    assert balance(customer) == 0
    assert services.expire_points() == 0


def test_expiry_covers_many_members_in_batches(program, monkeypatch):
    monkeypatch.setattr("loyalty.services.expiry.EXPIRY_BATCH", 2)
    customers = CustomerFactory.create_batch(5)
    for customer in customers:
        buy(customer, "10", at=days_ago(400))
        buy(customer, "5")
    assert services.expire_points() == 50
    assert set(Membership.objects.values_list("balance", flat=True)) == {5}


def test_never_expiring_lots_stay(customer):
    run_program(expiry_months=0)
    buy(customer, "30", at=days_ago(3000))
    assert services.expire_points() == 0
    assert balance(customer) == 30


def test_database_allows_one_expiry_per_lot(program, customer):
    buy(customer, "30", at=days_ago(400))
    services.expire_points()
    expiry = PointsEntry.objects.get(kind="expire")
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            membership=expiry.membership,
            customer=customer,
            kind="expire",
            points=-1,
            lot=expiry.lot,
        )


def test_customers_with_points_expiring_within_days(program):
    today = timezone.localdate()
    soon, later, spent, safe = CustomerFactory.create_batch(4)
    # 12-month expiry: bought 360 days ago expires in about 5 days.
    buy(soon, "10", at=days_ago(362))
    buy(soon, "15", at=days_ago(358))
    buy(soon, "99", at=days_ago(10))
    buy(later, "20", at=days_ago(330))
    buy(spent, "40", at=days_ago(360))
    services.redeem(spent, RewardFactory(cost=40))
    buy(safe, "50", at=days_ago(30))

    found = {c.pk: c for c in customers_with_points_expiring(10, today=today)}
    assert set(found) == {soon.pk}
    lots = PointsEntry.objects.filter(customer=soon).expiring_within(10, today)
    assert found[soon.pk].points_expiring == 25
    assert found[soon.pk].points_expire_on == min(lot.expires_on for lot in lots)

    wider = customers_with_points_expiring(60, today=today)
    assert {c.pk for c in wider} == {soon.pk, later.pk}
    # Chainable with the customers' own filters, still one query.
    assert list(
        wider.filter(pk=later.pk).values_list("points_expiring", flat=True)
    ) == [20]


def test_points_past_their_day_are_not_counted_as_expiring(program, customer):
    buy(customer, "10", at=days_ago(400))
    assert not customers_with_points_expiring(30).exists()
    assert not PointsEntry.objects.expiring_within(30).exists()


def test_birthday_bonus_is_given_once_a_year(customer):
    run_program(birthday_bonus=15)
    today = date(2025, 6, 1)
    customer.birthday = date(1990, 6, 1)
    customer.save()
    services.enroll(customer)
    assert services.grant_birthday_bonuses(today) == 1
    assert services.grant_birthday_bonuses(today) == 0
    assert balance(customer) == 15
    assert PointsEntry.objects.get(kind="bonus").reason == "Birthday bonus"


def test_leap_day_birthdays_are_kept_on_the_28th(customer):
    run_program(birthday_bonus=15)
    customer.birthday = date(2000, 2, 29)
    customer.save()
    services.enroll(customer)
    assert services.grant_birthday_bonuses(date(2023, 2, 28)) == 1
    assert services.grant_birthday_bonuses(date(2024, 2, 28)) == 0
    assert services.grant_birthday_bonuses(date(2024, 2, 29)) == 1
