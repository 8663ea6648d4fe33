"""Who may open which outreach page: anonymous, no group, Staff, Owner."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from communications import services
from communications.urls import urlpatterns
from customers.tests.factories import UserFactory

from .helpers import consenting_customer, make_rule, make_template, queue_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(owner_user):
    template = make_template()
    rule = make_rule("check_in", 30, template=template)
    campaign = services.save_campaign(
        name="Summer",
        template=template,
        segment=None,
        everyone=True,
        send_at=timezone.now() + timedelta(days=1),
        priority=50,
        by=owner_user,
    )
    message = queue_message(consenting_customer(), now=timezone.now(), rule=rule)
    return SimpleNamespace(
        template=template, rule=rule, campaign=campaign, message=message
    )


# name -> (arguments from the world, what Staff get, what Owners get)
PAGES = {
    # Staff may read the outbox: they see the same messages on timelines.
    "communications:outbox": (lambda w: [], 200, 200),
    "communications:message-detail": (lambda w: [w.message.pk], 200, 200),
    "communications:message-resolve": (lambda w: [w.message.pk], 403, 200),
    "communications:upcoming": (lambda w: [], 403, 200),
    "communications:rules": (lambda w: [], 403, 200),
    "communications:rule-create": (lambda w: [], 403, 200),
    "communications:rule-edit": (lambda w: [w.rule.pk], 403, 200),
    "communications:rule-delete": (lambda w: [w.rule.pk], 403, 200),
    "communications:campaigns": (lambda w: [], 403, 200),
    "communications:campaign-create": (lambda w: [], 403, 200),
    "communications:campaign-detail": (lambda w: [w.campaign.pk], 403, 200),
    "communications:campaign-edit": (lambda w: [w.campaign.pk], 403, 200),
    "communications:campaign-cancel": (lambda w: [w.campaign.pk], 403, 200),
    "communications:campaign-send-now": (lambda w: [w.campaign.pk], 403, 200),
    "communications:templates": (lambda w: [], 403, 200),
    "communications:template-create": (lambda w: [], 403, 200),
    "communications:template-edit": (lambda w: [w.template.pk], 403, 200),
    "communications:template-preview": (lambda w: [w.template.pk], 403, 200),
    "communications:template-delete": (lambda w: [w.template.pk], 403, 200),
    "communications:policy": (lambda w: [], 403, 200),
}


def url_of(name: str, world) -> str:
    return reverse(name, args=PAGES[name][0](world))


def test_every_communications_url_has_an_access_case():
    names = {
        f"communications:{p.name}" for p in urlpatterns if isinstance(p, URLPattern)
    }
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
def test_staff_may_read_the_outbox_only(staff_client, world, name):
    assert staff_client.get(url_of(name, world)).status_code == PAGES[name][1]


@pytest.mark.parametrize("name", PAGES)
def test_owner_may_open_every_page(owner_client, world, name):
    assert owner_client.get(url_of(name, world)).status_code == PAGES[name][2]


@pytest.mark.parametrize(
    "name",
    ["communications:message-detail", "communications:rule-edit",
     "communications:campaign-detail", "communications:template-edit"],
)  # fmt: skip
def test_a_missing_record_is_a_404_for_owners(owner_client, name):
    assert owner_client.get(reverse(name, args=[999999])).status_code == 404


def test_anonymous_post_changes_nothing(client, world):
    response = client.post(reverse("communications:rule-delete", args=[world.rule.pk]))
    assert response.status_code == 302
    world.rule.refresh_from_db()


def test_staff_cannot_cancel_a_campaign_by_post(staff_client, world):
    url = reverse("communications:campaign-cancel", args=[world.campaign.pk])
    assert staff_client.post(url).status_code == 403
    world.campaign.refresh_from_db()
    assert world.campaign.status == "scheduled"


@pytest.mark.parametrize("which", ["client", "staff_client", "owner_client"])
def test_the_unsubscribe_page_is_public(request, which):
    from communications.unsubscribe import make_token

    token = make_token(
        customer_id=consenting_customer().pk, channel="email", message_id=None
    )
    client = request.getfixturevalue(which)
    assert client.get(reverse("unsubscribe", args=[token])).status_code == 200


def test_the_nav_shows_outreach_to_staff(staff_client):
    response = staff_client.get(reverse("customers:list"))
    assert reverse("communications:outbox").encode() in response.content
