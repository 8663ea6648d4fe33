"""The Owner's pages: program rules, tiers, rewards, opening balances, overview."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from loyalty import services
from loyalty.models import Membership, PointsEntry, Program, Reward, Tier, add_months

from .factories import RewardFactory, TierFactory, buy, run_program

pytestmark = pytest.mark.django_db

GOOD_PROGRAM = {
    "name": "Bean Points",
    "is_active": "on",
    "earn_rate": "2.00",
    "point_value": "0.0100",
    "welcome_bonus": "50",
    "birthday_bonus": "25",
    "expiry_months": "12",
    "pending_days": "14",
    "auto_enroll": "on",
    "tier_basis": "points",
}


def field_errors(response, field: str) -> list[str]:
    assert response.status_code == 200, "a refused form is shown again"
    return response.context["form"].errors.get(field, [])


def test_owner_sets_up_the_program(owner_client, db):
    response = owner_client.post(reverse("loyalty:program"), GOOD_PROGRAM)
    assert response.status_code == 302
    program = Program.current()
    assert program.is_active and program.name == "Bean Points"
    assert (program.earn_rate, program.pending_days) == (Decimal("2.00"), 14)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("earn_rate", "-1", "The earn rate cannot be negative."),
        ("point_value", "-0.01", "A point's value cannot be negative."),
        ("welcome_bonus", "-5", "greater than or equal to 0"),
        ("expiry_months", "abc", "Enter a whole number."),
    ],
)
def test_program_refuses_bad_rules_beside_the_field(
    owner_client, db, field, value, message
):
    run_program(earn_rate=Decimal("1"))
    response = owner_client.post(
        reverse("loyalty:program"), {**GOOD_PROGRAM, field: value}
    )
    assert any(message in error for error in field_errors(response, field))
    assert Program.current().earn_rate == Decimal("1")


def test_owner_adds_edits_and_deletes_a_tier(owner_client, program):
    response = owner_client.post(
        reverse("loyalty:tiers"),
        {"name": "Gold", "threshold": "500", "multiplier": "1.5", "perks": "Free tea"},
    )
    assert response.status_code == 302
    tier = Tier.objects.get()
    response = owner_client.post(
        reverse("loyalty:tier-edit", args=[tier.pk]),
        {"name": "Gold", "threshold": "400", "multiplier": "2", "perks": ""},
    )
    assert response.status_code == 302
    tier.refresh_from_db()
    assert (tier.threshold, tier.multiplier) == (Decimal("400"), Decimal("2"))
    page = owner_client.get(reverse("loyalty:tier-delete", args=[tier.pk]))
    assert "Its members move" in page.content.decode()
    owner_client.post(reverse("loyalty:tier-delete", args=[tier.pk]))
    assert not Tier.objects.exists()


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"threshold": "-1"}, "threshold", "A threshold cannot be negative."),
        ({"multiplier": "0"}, "multiplier", "The multiplier must be more than 0."),
        ({"name": "silver"}, "name", "A tier with this name exists already."),
        ({"threshold": "100"}, "threshold", "Another tier has this threshold."),
    ],
)
def test_tier_form_refuses_bad_input(owner_client, program, data, field, message):
    TierFactory(name="Silver", threshold=Decimal("100"))
    good = {"name": "Gold", "threshold": "500", "multiplier": "1.5", "perks": ""}
    response = owner_client.post(reverse("loyalty:tiers"), {**good, **data})
    errors = response.context["form"].errors
    assert message in str(errors.get(field, "")) + str(errors.get("__all__", ""))
    assert Tier.objects.count() == 1


def test_owner_adds_and_edits_a_reward(owner_client, program):
    response = owner_client.post(
        reverse("loyalty:rewards"),
        {
            "name": "Mug",
            "description": "",
            "cost": "300",
            "stock": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    reward = Reward.objects.get()
    assert (reward.cost, reward.stock, reward.is_active) == (300, 5, True)
    owner_client.post(
        reverse("loyalty:reward-edit", args=[reward.pk]),
        {"name": "Mug", "description": "", "cost": "300", "stock": ""},
    )
    reward.refresh_from_db()
    assert (reward.stock, reward.is_active) == (None, False)


@pytest.mark.parametrize("cost", ["0", "-10"])
def test_reward_cost_must_be_at_least_one_point(owner_client, program, cost):
    response = owner_client.post(
        reverse("loyalty:rewards"),
        {"name": "Mug", "description": "", "cost": cost, "is_active": "on"},
    )
    assert "A reward costs at least 1 point." in field_errors(response, "cost")
    assert not Reward.objects.exists()


def upload(owner_client, text: str, *, dry_run: bool):
    data = {"file": SimpleUploadedFile("balances.csv", text.encode(), "text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return owner_client.post(reverse("loyalty:opening-balances"), data)


def test_opening_balances_are_checked_then_imported_once(owner_client, program):
    CustomerFactory(reference="C-1")
    CustomerFactory(email="jo@example.com")
    future = add_months(timezone.localdate(), 6).isoformat()
    earned = (timezone.localdate() - timedelta(days=30)).isoformat()
    text = (
        "customer,points,earned_at,expires_at\n"
        f"C-1,250,{earned},{future}\n"
        f"JO@example.com,40,{earned},\n"
        f"C-404,10,{earned},\n"
        f"C-1,ten,{earned},\n"
        f"C-1,5,{earned},2000-01-01\n"
    )
    response = upload(owner_client, text, dry_run=True)
    report = response.context["report"]
    assert (report.created, len(report.rejected)) == (2, 3)
    assert [(p.line, p.column) for p in report.rejected] == [
        (4, "customer"),
        (5, "points"),
        (6, "expires_at"),
    ]
    assert not PointsEntry.objects.exists()

    report = upload(owner_client, text, dry_run=False).context["report"]
    assert report.created == 2
    balances = dict(Membership.objects.values_list("customer__reference", "balance"))
    assert sorted(balances.values()) == [40, 250]
    lot = PointsEntry.objects.get(points=250)
    assert (lot.kind, lot.expires_on.isoformat()) == ("adjust", future)

    report = upload(owner_client, text, dry_run=False).context["report"]
    assert (report.created, report.unchanged) == (0, 2)
    assert PointsEntry.objects.count() == 2


def test_opening_balances_file_with_unknown_columns_is_refused(owner_client, program):
    response = upload(owner_client, "customer,points,colour\nC-1,5,red\n", dry_run=True)
    assert "unknown columns: colour" in str(response.context["form"].errors["file"])


def test_overview_shows_the_programs_figures(
    owner_client, owner_user, django_assert_max_num_queries
):
    run_program(point_value=Decimal("0.05"))
    silver = TierFactory(name="Silver", threshold=Decimal("150"))
    busy, quiet, lapsed = CustomerFactory.create_batch(3)
    buy(busy, "200")
    buy(quiet, "100", at=timezone.now() - timedelta(days=340))  # expires in ~25 days
    buy(lapsed, "80", at=timezone.now() - timedelta(days=400))
    services.expire_points()
    coffee = RewardFactory(name="Coffee", cost=50)
    services.redeem(busy, coffee)
    cancelled = services.redeem(busy, coffee)
    services.cancel_redemption(cancelled)
    services.adjust(quiet, 10, reason="Sorry", by=owner_user)

    with django_assert_max_num_queries(14):
        response = owner_client.get(reverse("loyalty:overview"))
    figures = response.context["figures"]
    assert (figures.members, figures.active_members) == (3, 1)
    # Last 30 days: busy's 200 and the adjustment; the older purchases are out.
    assert figures.issued == 210
    assert figures.redeemed == 50
    assert figures.expired == 0  # expired on a day more than 30 days ago
    assert figures.outstanding == 150 + 110
    assert figures.liability == Decimal("13.00")
    assert [m.points for m in figures.expiring] == [100, 0, 0]
    assert figures.redemption_rate == Decimal("23.8")
    assert [(t.name, t.members) for t in figures.tiers] == [
        ("No tier", 2),
        (silver.name, 1),
    ]
    assert [(r.name, r.redeemed_count) for r in figures.top_rewards] == [("Coffee", 1)]


def test_overview_period_is_chosen_by_dates(owner_client, program):
    customer = CustomerFactory()
    buy(customer, "80", at=timezone.now() - timedelta(days=400))
    services.expire_points()
    expired_on = PointsEntry.objects.get(kind="expire").occurred_at.date()
    response = owner_client.get(
        reverse("loyalty:overview"),
        {"start": (expired_on - timedelta(days=1)).isoformat(), "end": expired_on},
    )
    assert response.context["figures"].expired == 80


def test_overview_with_nothing_yet_has_empty_states(owner_client, db):
    page = owner_client.get(reverse("loyalty:overview")).content.decode()
    assert "switched off" in page
    assert "No rewards were redeemed in the period." in page


def test_loyalty_is_in_the_owners_nav_only(owner_client, staff_user, program):
    customer = CustomerFactory()
    url = reverse("customers:detail", args=[customer.pk])
    overview = reverse("loyalty:overview")
    assert f'href="{overview}"' in owner_client.get(url).content.decode()
    staff_client = Client()
    staff_client.force_login(staff_user)
    assert f'href="{overview}"' not in staff_client.get(url).content.decode()
