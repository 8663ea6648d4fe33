"""Who may open the dashboard's pages: Owners only."""

import pytest
from django.urls import URLPattern, reverse

from crm.dashboard.urls import urlpatterns
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# name -> URL arguments
PAGES = {
    "dashboard:index": [],
    "dashboard:csv": ["retention"],
    "dashboard:customers": ["active"],
}


def test_every_dashboard_url_has_an_access_case():
    names = {f"dashboard:{p.name}" for p in urlpatterns if isinstance(p, URLPattern)}
    assert names == set(PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_log_in(client, name):
    url = reverse(name, args=PAGES[name])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("name", PAGES)
def test_user_in_no_group_is_refused(client, roles, name):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse(name, args=PAGES[name])).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_staff_are_refused(staff_client, name):
    assert staff_client.get(reverse(name, args=PAGES[name])).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_owner_may_open(owner_client, name):
    assert owner_client.get(reverse(name, args=PAGES[name])).status_code == 200


def test_staff_cannot_save_a_list_as_a_segment(staff_client):
    url = reverse("dashboard:customers", args=["active"])
    assert staff_client.post(url, {"name": "x"}).status_code == 403


def test_owners_see_the_nav_link(owner_client):
    page = owner_client.get(reverse("customers:list")).content.decode()
    assert 'href="/dashboard/"' in page


def test_staff_do_not_see_the_nav_link(staff_client):
    page = staff_client.get(reverse("customers:list")).content.decode()
    assert 'href="/dashboard/"' not in page
