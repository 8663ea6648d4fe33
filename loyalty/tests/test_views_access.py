"""Who may open which loyalty page: anonymous, a user in no group, Staff, Owner."""

from types import SimpleNamespace

import pytest
from django.urls import URLPattern, reverse

from customers.tests.factories import CustomerFactory, UserFactory
from loyalty import services
from loyalty.models import Membership, Redemption, Tier
from loyalty.urls import urlpatterns

from .factories import RewardFactory, TierFactory, buy, run_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(roles):
    """One of everything a URL can name."""
    run_program()
    customer = CustomerFactory()
    buy(customer, "300")
    reward = RewardFactory(cost=100)
    return SimpleNamespace(
        customer=customer,
        tier=TierFactory(name="Silver"),
        reward=reward,
        redemption=services.redeem(customer, reward),
    )


# name -> (arguments from the world, what Staff get, what Owners get)
PAGES = {
    "loyalty:overview": (lambda w: [], 403, 200),
    "loyalty:program": (lambda w: [], 403, 200),
    "loyalty:tiers": (lambda w: [], 403, 200),
    "loyalty:tier-edit": (lambda w: [w.tier.pk], 403, 200),
    "loyalty:tier-delete": (lambda w: [w.tier.pk], 403, 200),
    "loyalty:rewards": (lambda w: [], 403, 200),
    "loyalty:reward-edit": (lambda w: [w.reward.pk], 403, 200),
    "loyalty:opening-balances": (lambda w: [], 403, 200),
    "loyalty:member": (lambda w: [w.customer.pk], 200, 200),
    "loyalty:enroll": (lambda w: [w.customer.pk], 200, 200),
    "loyalty:redeem": (lambda w: [w.customer.pk], 200, 200),
    "loyalty:adjust": (lambda w: [w.customer.pk], 403, 200),
    "loyalty:redemption": (lambda w: [w.redemption.pk], 200, 200),
    "loyalty:redemption-cancel": (lambda w: [w.redemption.pk], 200, 200),
}


def url_of(name: str, world) -> str:
    return reverse(name, args=PAGES[name][0](world))


def test_every_loyalty_url_has_an_access_case():
    names = {f"loyalty:{p.name}" for p in urlpatterns if isinstance(p, URLPattern)}
    assert names == set(PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_log_in(client, world, name):
    url = url_of(name, world)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("name", PAGES)
def test_user_in_no_group_is_refused(client, world, name):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url_of(name, world)).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_staff_may_open_the_member_pages_only(staff_client, world, name):
    assert staff_client.get(url_of(name, world)).status_code == PAGES[name][1]


@pytest.mark.parametrize("name", PAGES)
def test_owner_may_open_every_page(owner_client, world, name):
    assert owner_client.get(url_of(name, world)).status_code == PAGES[name][2]


@pytest.mark.parametrize(
    "name, args",
    [
        ("loyalty:member", [999999]),
        ("loyalty:redeem", [999999]),
        ("loyalty:adjust", [999999]),
        ("loyalty:tier-edit", [999999]),
        ("loyalty:redemption", [999999]),
        ("loyalty:redemption-cancel", [999999]),
    ],
)
def test_anonymous_is_sent_to_log_in_before_any_lookup(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_staff_cannot_adjust_by_post(staff_client, world):
    url = reverse("loyalty:adjust", args=[world.customer.pk])
    response = staff_client.post(url, {"points": 500, "reason": "Me"})
    assert response.status_code == 403
    assert Membership.objects.get(customer=world.customer).balance == 200


def test_staff_cannot_change_the_program_or_tiers_by_post(staff_client, world):
    assert (
        staff_client.post(reverse("loyalty:program"), {"earn_rate": "99"}).status_code
        == 403
    )
    assert (
        staff_client.post(
            reverse("loyalty:tier-delete", args=[world.tier.pk])
        ).status_code
        == 403
    )
    assert Tier.objects.filter(pk=world.tier.pk).exists()


def test_user_in_no_group_cannot_redeem_or_cancel(client, world):
    client.force_login(UserFactory(username="nobody"))
    redeem = reverse("loyalty:redeem", args=[world.customer.pk])
    assert client.post(redeem, {"reward": world.reward.pk}).status_code == 403
    cancel = reverse("loyalty:redemption-cancel", args=[world.redemption.pk])
    assert client.post(cancel).status_code == 403
    assert Redemption.objects.get().status == "issued"
