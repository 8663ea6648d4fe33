"""Redeeming, cancelling and adjusting: refusals change nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from loyalty import services
from loyalty.models import Membership, PointsEntry, Redemption, Reward

from .factories import RewardFactory, buy, run_program

pytestmark = pytest.mark.django_db


def state(customer) -> tuple:
    """Everything a refusal must leave as it was."""
    membership = Membership.objects.filter(customer=customer).first()
    return (
        membership.balance if membership else None,
        list(PointsEntry.objects.values_list("pk", "remaining").order_by("pk")),
        list(Reward.objects.values_list("pk", "stock").order_by("pk")),
        Redemption.objects.count(),
    )


@pytest.fixture
def member(program, customer):
    buy(customer, "150")
    return customer


def test_redeem_spends_points_and_keeps_a_code(member, staff_user):
    reward = RewardFactory(cost=100, stock=4)
    redemption = services.redeem(member, reward, by=staff_user)
    assert Membership.objects.get(customer=member).balance == 50
    assert len(redemption.code) == 9 and redemption.code[4] == "-"
    assert redemption.points == 100 and redemption.by == staff_user
    entry = PointsEntry.objects.get(kind="redeem")
    assert (entry.points, entry.redemption, entry.by) == (-100, redemption, staff_user)
    reward.refresh_from_db()
    assert reward.stock == 3


def test_redeem_refuses_when_balance_is_short(member):
    before = state(member)
    with pytest.raises(services.InsufficientPoints) as refused:
        services.redeem(member, RewardFactory(cost=151))
    assert (refused.value.spendable, refused.value.needed) == (150, 151)
    assert "150 can be spent" in str(refused.value)
    assert state(member)[:2] == before[:2]
    assert Redemption.objects.count() == 0


def test_redeem_refuses_an_inactive_reward(member):
    reward = RewardFactory(cost=10, is_active=False)
    before = state(member)
    with pytest.raises(services.RewardUnavailable, match="not offered"):
        services.redeem(member, reward)
    assert state(member) == before


def test_redeem_refuses_a_sold_out_reward(member):
    reward = RewardFactory(cost=10, stock=0)
    before = state(member)
    with pytest.raises(services.RewardSoldOut, match="sold out"):
        services.redeem(member, reward)
    assert state(member) == before


def test_redeem_refuses_a_customer_who_is_not_a_member(program):
    stranger = CustomerFactory()
    reward = RewardFactory(cost=10)
    with pytest.raises(services.NotAMember, match="not a member"):
        services.redeem(stranger, reward)
    assert Redemption.objects.count() == 0


def test_refusals_are_validation_errors_for_the_forms(member):
    with pytest.raises(ValidationError) as refused:
        services.redeem(member, RewardFactory(cost=10, is_active=False))
    assert "reward" in refused.value.message_dict


def test_pending_points_cannot_be_spent_yet(customer):
    run_program(pending_days=14)
    buy(customer, "100", at=timezone.now() - timedelta(days=20))
    buy(customer, "100")
    with pytest.raises(services.InsufficientPoints) as refused:
        services.redeem(customer, RewardFactory(cost=150))
    assert "100 more pending" in str(refused.value)
    services.redeem(customer, RewardFactory(cost=100))
    assert Membership.objects.get(customer=customer).balance == 100


def test_redeem_takes_the_soonest_expiring_points_first(program, customer):
    old = buy(customer, "30", at=timezone.now() - timedelta(days=200))
    new = buy(customer, "50", at=timezone.now() - timedelta(days=10))
    services.redeem(customer, RewardFactory(cost=40))
    lots = dict(
        PointsEntry.objects.filter(kind="earn").values_list("purchase", "remaining")
    )
    assert lots == {old.pk: 0, new.pk: 40}


def test_expired_but_not_yet_expired_points_cannot_be_spent(program, customer):
    buy(customer, "100", at=timezone.now() - timedelta(days=400))
    with pytest.raises(services.InsufficientPoints):
        services.redeem(customer, RewardFactory(cost=10))


def test_cancel_gives_points_back_as_a_new_entry(member, staff_user):
    reward = RewardFactory(cost=100, stock=1)
    redemption = services.redeem(member, reward)
    services.cancel_redemption(redemption, by=staff_user)
    redemption.refresh_from_db()
    assert redemption.is_cancelled and redemption.cancelled_by == staff_user
    assert Membership.objects.get(customer=member).balance == 150
    give_back = PointsEntry.objects.get(kind="reversal")
    assert (give_back.points, give_back.remaining) == (100, 100)
    assert give_back.expires_on == redemption.refund_expires_on
    # The redeem entry itself is untouched.
    assert PointsEntry.objects.get(kind="redeem").points == -100
    reward.refresh_from_db()
    assert reward.stock == 1


def test_cancelled_points_expire_when_the_spent_lots_would_have(member):
    redemption = services.redeem(member, RewardFactory(cost=100))
    lot = PointsEntry.objects.get(kind="earn")
    assert redemption.refund_expires_on == lot.expires_on


def test_a_redemption_is_cancelled_once(member):
    redemption = services.redeem(member, RewardFactory(cost=100))
    services.cancel_redemption(redemption)
    with pytest.raises(services.RedemptionAlreadyCancelled):
        services.cancel_redemption(redemption)
    assert Membership.objects.get(customer=member).balance == 150


def test_owner_adjusts_up_with_a_reason(member, owner_user):
    entry = services.adjust(member, 25, reason="Goodwill", by=owner_user)
    assert (entry.kind, entry.points, entry.reason, entry.by) == (
        "adjust",
        25,
        "Goodwill",
        owner_user,
    )
    assert entry.remaining == 25 and entry.expires_on is not None
    assert Membership.objects.get(customer=member).balance == 175


def test_owner_adjusts_down_from_the_lots(member, owner_user):
    services.adjust(member, -50, reason="Double entry", by=owner_user)
    assert Membership.objects.get(customer=member).balance == 100
    assert PointsEntry.objects.get(kind="earn").remaining == 100


@pytest.mark.parametrize(
    "points, reason, field",
    [(0, "Because", "points"), (10, "", "reason"), (10, "   ", "reason")],
)
def test_adjust_refuses_zero_points_or_no_reason(
    member, owner_user, points, reason, field
):
    before = state(member)
    with pytest.raises(ValidationError) as refused:
        services.adjust(member, points, reason=reason, by=owner_user)
    assert field in refused.value.message_dict
    assert state(member) == before


def test_adjust_needs_the_owner_role(member, staff_user):
    before = state(member)
    with pytest.raises(PermissionDenied):
        services.adjust(member, 10, reason="Because", by=staff_user)
    with pytest.raises(PermissionDenied):
        services.adjust(member, 10, reason="Because", by=None)
    assert state(member) == before


def test_adjust_cannot_take_more_than_the_balance(member, owner_user):
    before = state(member)
    with pytest.raises(services.InsufficientPoints):
        services.adjust(member, -151, reason="Too much", by=owner_user)
    assert state(member) == before


def test_adjust_refuses_a_non_member(program, owner_user):
    with pytest.raises(services.NotAMember):
        services.adjust(CustomerFactory(), 10, reason="Because", by=owner_user)


def test_enrol_is_refused_while_the_program_is_off(customer):
    run_program(is_active=False)
    with pytest.raises(services.ProgramInactive):
        services.enroll(customer)
    assert not Membership.objects.exists()


def test_enrol_twice_keeps_one_membership_and_one_welcome_bonus(customer):
    run_program(welcome_bonus=10)
    first = services.enroll(customer)
    again = services.enroll(customer)
    assert first.pk == again.pk
    assert PointsEntry.objects.filter(kind="bonus").count() == 1
    assert Membership.objects.get(customer=customer).balance == 10
