"""Who may open which page: anonymous, a user in no group, Staff and Owner."""

from types import SimpleNamespace

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from customers import services
from customers.models import Customer, ImportJob, SavedSegment, Tag
from customers.tests.factories import CustomerFactory, TagFactory, UserFactory
from customers.urls import urlpatterns

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(staff_user):
    """One of everything a URL can name."""
    customer = CustomerFactory()
    interaction = services.log_interaction(
        customer=customer,
        kind="call",
        subject="Asked about delivery",
        by=staff_user,
        follow_up_on=timezone.localdate(),
    )
    purchase, _ = services.record_purchase(
        customer=customer, amount="40.00", occurred_at=timezone.now()
    )
    tag = TagFactory()
    segment = services.save_segment(
        name="Tagged", params={"tag": tag.pk}, by=staff_user
    )
    return SimpleNamespace(
        import_job=ImportJob.objects.create(
            kind="customers", file_name="people.csv", stored_as="imports/x.csv"
        ),
        customer=customer,
        follow_up=interaction.follow_ups.get(),
        purchase=purchase,
        tag=tag,
        segment=segment,
    )


# name -> (arguments from the world, what Staff get, what Owners get)
PAGES = {
    "customers:list": (lambda w: [], 200, 200),
    "customers:create": (lambda w: [], 200, 200),
    "customers:needs-follow-up": (lambda w: [], 200, 200),
    "customers:follow-ups": (lambda w: [], 200, 200),
    "customers:follow-up-complete": (lambda w: [w.follow_up.pk], 200, 200),
    "customers:tags": (lambda w: [], 200, 200),
    "customers:tag-edit": (lambda w: [w.tag.pk], 200, 200),
    "customers:tag-delete": (lambda w: [w.tag.pk], 200, 200),
    "customers:segments": (lambda w: [], 200, 200),
    "customers:segment-create": (lambda w: [], 200, 200),
    # Opening a segment is the list with its filters: a redirect.
    "customers:segment-detail": (lambda w: [w.segment.pk], 302, 302),
    "customers:segment-delete": (lambda w: [w.segment.pk], 200, 200),
    "customers:detail": (lambda w: [w.customer.pk], 200, 200),
    "customers:edit": (lambda w: [w.customer.pk], 200, 200),
    "customers:merge": (lambda w: [w.customer.pk], 403, 200),
    "customers:interaction-create": (lambda w: [w.customer.pk], 200, 200),
    "customers:purchase-create": (lambda w: [w.customer.pk], 200, 200),
    "customers:purchase-refund": (
        lambda w: [w.customer.pk, w.purchase.pk],
        200,
        200,
    ),
    "customers:feedback-create": (lambda w: [w.customer.pk], 200, 200),
    # Exports and imports are the Owner's.
    "customers:export": (lambda w: [], 403, 200),
    "customers:import": (lambda w: [], 403, 200),
    "customers:purchase-export": (lambda w: [], 403, 200),
    "customers:interaction-export": (lambda w: [], 403, 200),
    "customers:import-job": (lambda w: [w.import_job.pk], 403, 200),
    # A customer's data rights are the Owner's.
    "customers:data-export": (lambda w: [w.customer.pk], 403, 200),
    "customers:erase": (lambda w: [w.customer.pk], 403, 200),
    "customers:import-job-progress": (lambda w: [w.import_job.pk], 403, 200),
}


def url_of(name: str, world) -> str:
    return reverse(name, args=PAGES[name][0](world))


def test_every_customers_url_has_an_access_case():
    names = {f"customers:{p.name}" for p in urlpatterns if isinstance(p, URLPattern)}
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
def test_staff_may_open_every_page_but_merge(staff_client, world, name):
    assert staff_client.get(url_of(name, world)).status_code == PAGES[name][1]


@pytest.mark.parametrize("name", PAGES)
def test_owner_may_open_every_page(owner_client, world, name):
    assert owner_client.get(url_of(name, world)).status_code == PAGES[name][2]


@pytest.mark.parametrize(
    "name, args",
    [
        ("customers:detail", [999999]),
        ("customers:follow-up-complete", [999999]),
        ("customers:tag-edit", [999999]),
        ("customers:tag-delete", [999999]),
        ("customers:segment-delete", [999999]),
        ("customers:purchase-refund", [999999, 999999]),
    ],
)
def test_anonymous_is_sent_to_log_in_before_any_lookup(client, name, args):
    # Not a 404: whether a record exists is not shown to someone not logged in.
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_home_sends_anonymous_to_log_in(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1] == ("/accounts/login/?next=/customers/", 302)
    assert response.status_code == 200


def test_home_refuses_a_user_in_no_group(client):
    client.force_login(UserFactory(username="nobody"))
    response = client.get("/", follow=True)
    assert response.status_code == 403


@pytest.mark.parametrize("which", ["staff_client", "owner_client"])
def test_home_opens_the_customer_list(request, which):
    response = request.getfixturevalue(which).get("/", follow=True)
    assert response.redirect_chain == [("/customers/", 302)]
    assert response.status_code == 200


def test_password_change_needs_log_in(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password/"


def test_password_change_is_open_to_any_logged_in_user(client):
    # Changing one's own password is not a CRM page: no role is needed for it.
    client.force_login(UserFactory(username="nobody"))
    assert client.get("/accounts/password/").status_code == 200


@pytest.mark.parametrize("which", ["staff_client", "owner_client"])
def test_password_change_opens_for_staff_and_owners(request, which):
    assert request.getfixturevalue(which).get("/accounts/password/").status_code == 200


def test_anonymous_post_changes_nothing(client, world):
    response = client.post(reverse("customers:tag-delete", args=[world.tag.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Tag.objects.filter(pk=world.tag.pk).exists()


def test_user_in_no_group_cannot_post(client, world):
    client.force_login(UserFactory(username="nobody"))
    url = reverse("customers:segment-delete", args=[world.segment.pk])
    assert client.post(url).status_code == 403
    assert SavedSegment.objects.filter(pk=world.segment.pk).exists()


def test_staff_cannot_merge_by_post(staff_client, world):
    duplicate = CustomerFactory()
    url = reverse("customers:merge", args=[world.customer.pk])
    response = staff_client.post(url, {"other": duplicate.pk, "confirm": "on"})
    assert response.status_code == 403
    assert Customer.objects.filter(pk=duplicate.pk).exists()


def test_inactive_staff_member_is_refused(client, staff_user, world):
    staff_user.is_active = False
    staff_user.save(update_fields=["is_active"])
    client.force_login(staff_user)
    response = client.get(reverse("customers:list"))
    # An inactive user's session is not authenticated: back to log in.
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "name, args",
    [
        ("customers:detail", [999999]),
        ("customers:edit", [999999]),
        ("customers:interaction-create", [999999]),
        ("customers:follow-up-complete", [999999]),
        ("customers:tag-edit", [999999]),
        ("customers:tag-delete", [999999]),
        ("customers:segment-detail", [999999]),
        ("customers:segment-delete", [999999]),
        ("customers:purchase-refund", [999999, 999999]),
    ],
)
def test_staff_get_not_found_for_unknown_records(staff_client, name, args):
    assert staff_client.get(reverse(name, args=args)).status_code == 404


def test_refund_of_another_customers_purchase_is_not_found(staff_client, world):
    stranger = CustomerFactory()
    url = reverse("customers:purchase-refund", args=[stranger.pk, world.purchase.pk])
    assert staff_client.get(url).status_code == 404
