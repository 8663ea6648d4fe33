"""The ledger's guarantees: append-only, never negative, audited, merged whole."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, InternalError, transaction
from django.db.models import F
from django.utils import timezone

from customers import services as customer_services
from customers.tests.factories import CustomerFactory
from loyalty import services
from loyalty.data_rights import erase_loyalty, export_loyalty
from loyalty.models import Membership, PointsEntry, Redemption, TierChange

from .factories import RewardFactory, TierFactory, buy, run_program

pytestmark = pytest.mark.django_db

# The trigger raises restrict_violation / check_violation: psycopg maps both to
# IntegrityError; anything else from PL/pgSQL would be an InternalError.
REFUSED = (IntegrityError, InternalError)


def audit() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("loyalty_audit", stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.fixture
def lot(program, customer):
    purchase = buy(customer, "50")
    return PointsEntry.objects.get(purchase=purchase)


def test_database_keeps_balances_at_or_above_zero(lot):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=lot.membership_id).update(balance=-1)


@pytest.mark.parametrize(
    "change",
    [{"points": 60}, {"kind": "bonus"}, {"expires_on": None}, {"purchase": None}],
)
def test_database_refuses_to_rewrite_an_entry(lot, change):
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=lot.pk).update(**change)


def test_database_refuses_to_delete_an_entry(lot):
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=lot.pk).delete()
    with pytest.raises(TypeError):
        lot.delete()


def test_what_is_left_of_a_lot_only_goes_down(lot):
    PointsEntry.objects.filter(pk=lot.pk).update(remaining=40)
    with pytest.raises(REFUSED, match="cannot grow"), transaction.atomic():
        PointsEntry.objects.filter(pk=lot.pk).update(remaining=41)


def test_a_member_cannot_be_deleted_from_under_the_ledger(lot):
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017
        lot.membership.customer.delete()
    assert PointsEntry.objects.filter(pk=lot.pk).exists()


def test_audit_is_clean_after_every_kind_of_entry(program, owner_user):
    customer = CustomerFactory()
    run_program(welcome_bonus=10)
    purchase = buy(customer, "200", at=timezone.now() - timedelta(days=400))
    buy(customer, "100")
    services.expire_points()
    redemption = services.redeem(customer, RewardFactory(cost=30))
    services.cancel_redemption(redemption)
    services.redeem(customer, RewardFactory(cost=50))
    services.adjust(customer, -5, reason="Typo", by=owner_user)
    customer_services.refund_purchase(purchase=purchase, amount="50")
    assert audit() == (0, "All 1 balances match their ledgers.\n")


def test_audit_lists_each_mismatch_and_fails(lot, customer):
    other = CustomerFactory()
    buy(other, "10")
    Membership.objects.filter(customer=customer).update(balance=F("balance") + 7)
    status, output = audit()
    assert status == 1
    assert f"Customer #{customer.pk}" in output
    assert "balance 57, ledger 50, left in lots 50" in output
    assert f"Customer #{other.pk}" not in output
    assert "1 of 2 members out of balance" in output


def test_audit_catches_lots_that_disagree_with_the_ledger(lot, customer):
    PointsEntry.objects.filter(pk=lot.pk).update(remaining=45)
    status, output = audit()
    assert status == 1
    assert "balance 50, ledger 50, left in lots 45" in output


def test_audit_notes_lots_waiting_for_expiry_without_failing(program, customer):
    buy(customer, "10", at=timezone.now() - timedelta(days=400))
    status, output = audit()
    assert status == 0
    assert "1 lots are past their expiry day" in output


def test_merge_moves_the_membership_to_a_kept_non_member(program):
    kept, merged = CustomerFactory(), CustomerFactory()
    buy(merged, "40")
    customer_services.merge_customers(keep=kept, merge=merged)
    membership = Membership.objects.get()
    assert membership.customer == kept and membership.balance == 40
    assert set(PointsEntry.objects.values_list("customer", flat=True)) == {kept.pk}
    assert audit()[0] == 0


def test_merge_of_two_members_adds_up_without_losing_or_doubling(program):
    run_program(welcome_bonus=10)
    TierFactory(name="Silver", threshold=100)
    kept, merged = CustomerFactory(), CustomerFactory()
    buy(kept, "60")
    buy(merged, "50", at=timezone.now() - timedelta(days=30))
    redemption = services.redeem(merged, RewardFactory(cost=20))
    lots_before = sorted(
        PointsEntry.objects.lots().values_list("points", "remaining", "expires_on")
    )
    customer_services.merge_customers(keep=kept, merge=merged)

    membership = Membership.objects.select_related("tier").get()
    assert membership.customer == kept
    assert membership.balance == 70 + 60 - 20
    assert membership.tier.name == "Silver"  # 60 + 50 earned in the window
    assert (
        sorted(
            PointsEntry.objects.lots().values_list("points", "remaining", "expires_on")
        )
        == lots_before
    )
    assert PointsEntry.objects.filter(kind="bonus").count() == 2
    assert Redemption.objects.get(pk=redemption.pk).membership == membership
    assert TierChange.objects.filter(membership=membership).exists()
    assert audit()[0] == 0


def test_export_holds_membership_ledger_and_redemptions(program, customer):
    purchase = buy(customer, "120", reference="ORD-9")
    redemption = services.redeem(customer, RewardFactory(name="Coffee", cost=100))
    data = export_loyalty(customer)
    assert data["balance"] == 20
    assert [(e["kind"], e["points"]) for e in data["ledger"]] == [
        ("earn", 120),
        ("redeem", -100),
    ]
    assert data["ledger"][0]["purchase_reference"] == purchase.reference
    assert data["redemptions"] == [
        {
            "code": redemption.code,
            "reward": "Coffee",
            "points": 100,
            "status": "issued",
            "created_at": redemption.created_at.isoformat(),
            "cancelled_at": None,
        }
    ]
    assert export_loyalty(CustomerFactory()) is None


def test_erase_wipes_reasons_and_keeps_points_and_dates(program, owner_user):
    customer, other = CustomerFactory(), CustomerFactory()
    buy(customer, "30")
    buy(other, "30")
    services.adjust(customer, 5, reason="Said Mrs Smith was upset", by=owner_user)
    services.adjust(other, 5, reason="Kept", by=owner_user)
    before = list(
        PointsEntry.objects.filter(customer=customer).values_list(
            "points", "occurred_at", "expires_on"
        )
    )
    erase_loyalty(customer)
    assert set(
        PointsEntry.objects.filter(customer=customer).values_list("reason", flat=True)
    ) == {""}
    assert PointsEntry.objects.get(customer=other, kind="adjust").reason == "Kept"
    assert (
        list(
            PointsEntry.objects.filter(customer=customer).values_list(
                "points", "occurred_at", "expires_on"
            )
        )
        == before
    )
    assert Membership.objects.get(customer=customer).balance == 35


def test_loyalty_is_part_of_the_customers_data_rights():
    from customers.wiring import personal_data

    (loyalty,) = [entry for entry in personal_data() if entry.name == "loyalty"]
    assert loyalty.export is export_loyalty
    assert loyalty.erase is erase_loyalty


@pytest.mark.parametrize("bonus", ["welcome", "birthday"])
def test_database_allows_one_welcome_and_one_birthday_bonus_a_year(customer, bonus):
    from loyalty.services.enrolment import birthday_key, welcome_key

    run_program(welcome_bonus=10, birthday_bonus=10)
    membership = services.enroll(customer)
    key = (
        welcome_key(membership.pk)
        if bonus == "welcome"
        else birthday_key(membership.pk, 2025)
    )
    if bonus == "birthday":
        PointsEntry.objects.create(
            membership=membership, customer=customer, kind="bonus", points=10,
            remaining=10, key=key,
        )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(
            membership=membership, customer=customer, kind="bonus", points=10,
            remaining=10, key=key,
        )  # fmt: skip
