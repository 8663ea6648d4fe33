"""The member's side: the customer page's card and timeline, redeem, adjust."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from loyalty import services
from loyalty.models import Membership, PointsEntry, Redemption
from loyalty.panel import loyalty_panel

from .factories import RewardFactory, TierFactory, buy, run_program

pytestmark = pytest.mark.django_db


def detail(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def field_errors(response, field: str) -> list[str]:
    assert response.status_code == 200, "a refused form is shown again"
    return response.context["form"].errors.get(field, [])


@pytest.fixture
def member(program):
    TierFactory(name="Silver", threshold=Decimal("100"))
    TierFactory(name="Gold", threshold=Decimal("400"))
    customer = CustomerFactory(first_name="Mia", last_name="Member")
    buy(customer, "20", at=timezone.now() - timedelta(days=350))  # expires soon
    buy(customer, "130")
    return customer


def test_customer_page_shows_balance_tier_progress_and_expiring_points(
    staff_client, member
):
    RewardFactory(name="Free coffee", cost=50)
    page = staff_client.get(detail(member)).content.decode()
    assert "150 <small" in page  # balance
    assert "Silver" in page
    assert "250 more points to Gold" in page
    assert 'value="37"' in page  # 150 of 400
    assert "20 expire within 30 days" in page
    assert "Free coffee (50 points)" in page
    assert "Adjust points" not in page  # staff do not adjust


def test_owner_sees_the_adjust_link(owner_client, member):
    page = owner_client.get(detail(member)).content.decode()
    assert reverse("loyalty:adjust", args=[member.pk]) in page


def test_points_appear_on_the_customer_timeline(staff_client, member):
    response = staff_client.get(detail(member))
    entries = [e for e in response.context["timeline"] if e.kind == "points"]
    assert [(e.item.kind, e.item.points) for e in entries] == [
        ("earn", 130),
        ("earn", 20),
    ]
    assert "+130</strong> earned" in response.content.decode()


def test_tier_changes_show_on_the_customer_page(staff_client, member):
    page = staff_client.get(detail(member)).content.decode()
    assert "no tier → <strong>Silver</strong>" in page


def test_non_member_is_offered_enrolment(staff_client, staff_user, program):
    customer = CustomerFactory()
    page = staff_client.get(detail(customer)).content.decode()
    assert "Not a member" in page
    response = staff_client.post(reverse("loyalty:enroll", args=[customer.pk]))
    assert response.status_code == 302
    membership = Membership.objects.get(customer=customer)
    assert membership.enrolled_by == staff_user


def test_enrolment_while_the_program_is_off_is_refused_with_a_message(
    staff_client, customer
):
    run_program(is_active=False)
    response = staff_client.post(
        reverse("loyalty:enroll", args=[customer.pk]), follow=True
    )
    assert "switched off" in response.content.decode()
    assert not Membership.objects.exists()


def test_panel_queries_do_not_grow_with_the_ledger(
    rf: RequestFactory, staff_user, member, django_assert_num_queries
):
    for _ in range(30):
        buy(member, "3")
    request = rf.get("/")
    request.user = staff_user
    # 1 program, 1 membership with tier, 1 its 12-month figure, 1 lots summary,
    # 1 tiers, 1 recent entries, 1 tier changes, 1 rewards, 1 user's groups
    with django_assert_num_queries(9):
        context = loyalty_panel(request, member)
    assert context["membership"].balance == 240


def test_panel_for_a_non_member_costs_two_queries(
    rf: RequestFactory, staff_user, program, django_assert_num_queries
):
    customer = CustomerFactory()
    request = rf.get("/")
    request.user = staff_user
    with django_assert_num_queries(2):
        assert loyalty_panel(request, customer)["membership"] is None


def test_staff_redeem_from_the_customer_page_and_see_the_code(
    staff_client, staff_user, member
):
    reward = RewardFactory(name="Tote bag", cost=100, stock=2)
    response = staff_client.post(
        reverse("loyalty:redeem", args=[member.pk]), {"reward": reward.pk}
    )
    redemption = Redemption.objects.get()
    assert response.status_code == 302
    assert response["Location"] == redemption.get_absolute_url()
    page = staff_client.get(response["Location"]).content.decode()
    assert redemption.code in page and "Tote bag" in page
    assert redemption.by == staff_user
    assert Membership.objects.get(customer=member).balance == 50


def test_redeem_with_too_few_points_says_so_and_changes_nothing(staff_client, member):
    reward = RewardFactory(cost=151)
    response = staff_client.post(
        reverse("loyalty:redeem", args=[member.pk]), {"reward": reward.pk}
    )
    errors = response.context["form"].non_field_errors()
    assert response.status_code == 200
    assert "Not enough points: 150 can be spent, 151 are needed." in errors
    assert not Redemption.objects.exists()
    assert Membership.objects.get(customer=member).balance == 150


def test_redeem_refuses_an_inactive_reward_beside_the_field(staff_client, member):
    reward = RewardFactory(cost=10, is_active=False)
    response = staff_client.post(
        reverse("loyalty:redeem", args=[member.pk]), {"reward": reward.pk}
    )
    assert field_errors(response, "reward")
    assert not Redemption.objects.exists()


def test_redeem_for_a_non_member_is_refused(staff_client, program):
    customer = CustomerFactory()
    reward = RewardFactory(cost=10)
    response = staff_client.post(
        reverse("loyalty:redeem", args=[customer.pk]), {"reward": reward.pk}
    )
    assert "not a member" in str(response.context["form"].non_field_errors())


def test_cancel_a_redemption_from_its_page(staff_client, member):
    redemption = services.redeem(member, RewardFactory(cost=100))
    url = reverse("loyalty:redemption-cancel", args=[redemption.pk])
    assert "Yes, cancel it" in staff_client.get(url).content.decode()
    response = staff_client.post(url, follow=True)
    assert "100 points were given back" in response.content.decode()
    assert Membership.objects.get(customer=member).balance == 150
    # A second post (another tab) is refused, not doubled.
    response = staff_client.post(url, follow=True)
    assert "cancelled already" in response.content.decode()
    assert Membership.objects.get(customer=member).balance == 150


def test_owner_adjusts_with_a_reason(owner_client, owner_user, member):
    response = owner_client.post(
        reverse("loyalty:adjust", args=[member.pk]),
        {"points": "-30", "reason": "Counted twice"},
    )
    assert response.status_code == 302
    entry = PointsEntry.objects.get(kind="adjust")
    assert (entry.points, entry.reason, entry.by) == (-30, "Counted twice", owner_user)


@pytest.mark.parametrize(
    "data, field",
    [({"points": "0", "reason": "x"}, "points"), ({"points": "5"}, "reason")],
)
def test_adjust_needs_points_and_a_reason(owner_client, member, data, field):
    response = owner_client.post(reverse("loyalty:adjust", args=[member.pk]), data)
    assert field_errors(response, field)
    assert not PointsEntry.objects.filter(kind="adjust").exists()


def test_adjust_below_zero_is_refused_with_a_message(owner_client, member):
    response = owner_client.post(
        reverse("loyalty:adjust", args=[member.pk]),
        {"points": "-500", "reason": "Too much"},
    )
    assert "Not enough points" in str(response.context["form"].non_field_errors())
    assert Membership.objects.get(customer=member).balance == 150


def test_member_ledger_page_lists_every_entry_and_pages(
    staff_client, member, django_assert_max_num_queries
):
    for _ in range(60):
        buy(member, "1")
    url = reverse("loyalty:member", args=[member.pk])
    # session, user, groups, customer, membership, ledger count + page,
    # redemptions, tier changes, nav (segments, follow-ups)
    with django_assert_max_num_queries(12):
        response = staff_client.get(url)
    assert len(response.context["ledger"]) == 50
    assert response.context["ledger"].paginator.count == 62
    assert "Silver" in response.content.decode()


def test_member_page_of_a_non_member_offers_enrolment(staff_client, program):
    customer = CustomerFactory()
    page = staff_client.get(reverse("loyalty:member", args=[customer.pk]))
    assert "is not a member" in page.content.decode()


def test_card_figures_follow_the_day(
    rf: RequestFactory, staff_user, member, monkeypatch
):
    """The card's sums are the day's: on a later day they are that day's. 20
    points expire in about 15 days; a month on, they are gone from "spendable"
    and "expiring"."""
    request = rf.get("/")
    request.user = staff_user
    today = loyalty_panel(request, member)
    assert (today["spendable"], today["expiring"]) == (150, 20)
    later = timezone.localdate() + timedelta(days=30)
    monkeypatch.setattr("loyalty.panel.timezone.localdate", lambda: later)
    after = loyalty_panel(request, member)
    assert (after["spendable"], after["expiring"]) == (130, 0)


def test_points_entries_on_the_timeline_are_escaped_and_signed():
    def draw_points_entry(item: PointsEntry) -> str:
        return render_to_string("loyalty/_timeline_points.html", {"item": item})

    taken = PointsEntry(kind="adjust", points=-5, reason='<b onclick="x">late</b>')
    html = draw_points_entry(taken)
    assert '<strong class="text-danger">-5</strong>' in html
    assert "&lt;b onclick=&quot;x&quot;&gt;late&lt;/b&gt;" in html and "<b " not in html
    given = draw_points_entry(PointsEntry(kind="earn", points=12, reason=""))
    assert '<strong class="text-success">+12</strong> earned</div>' in given
