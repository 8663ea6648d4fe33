"""The Owner's API token page: who may open it, making a token (secret shown
once, only its hash stored), revoking it, and the token's last use."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from crm.api.services import create_api_token
from crm.models import ApiToken
from crm.tests.conftest import bearer
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api_tokens:list")
API = reverse("api:customer-list")


def revoke_url(token) -> str:
    return reverse("api_tokens:revoke", args=[token.pk])


@pytest.fixture
def token(owner_user):
    return create_api_token(user=owner_user, name="Web shop")[0]


# --- who may open the pages --------------------------------------------------


@pytest.mark.parametrize("page", ["list", "revoke"])
def test_anonymous_is_sent_to_log_in(client, token, page):
    url = LIST if page == "list" else revoke_url(token)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_anonymous_is_sent_to_log_in_before_any_lookup(client):
    url = reverse("api_tokens:revoke", args=[999999])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("page", ["list", "revoke"])
def test_user_in_no_group_is_refused(client, token, page):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(LIST if page == "list" else revoke_url(token)).status_code == 403


@pytest.mark.parametrize("page", ["list", "revoke"])
def test_staff_are_refused(staff_client, token, page):
    assert (
        staff_client.get(LIST if page == "list" else revoke_url(token)).status_code
        == 403
    )


@pytest.mark.parametrize("page", ["list", "revoke"])
def test_owner_may_open(owner_client, token, page):
    assert (
        owner_client.get(LIST if page == "list" else revoke_url(token)).status_code
        == 200
    )


def test_staff_cannot_make_or_revoke_tokens_by_post(staff_client, token):
    assert staff_client.post(LIST, {"name": "Mine"}).status_code == 403
    assert staff_client.post(revoke_url(token)).status_code == 403
    assert ApiToken.objects.count() == 1
    token.refresh_from_db()
    assert token.is_active


@pytest.mark.parametrize(
    "which, shown", [("owner_client", True), ("staff_client", False)]
)
def test_the_nav_links_the_page_for_owners_only(request, which, shown):
    page = request.getfixturevalue(which).get(reverse("customers:list"))
    assert (f'href="{LIST}"' in page.content.decode()) is shown


# --- making a token -----------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(
    owner_client, owner_user, api_client
):
    response = owner_client.post(LIST, {"name": "Web shop"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert len(secret) >= 40
    page = response.content.decode()
    assert secret in page
    assert "no-store" in response["Cache-Control"]

    token = ApiToken.objects.get()
    assert (token.name, token.user) == ("Web shop", owner_user)
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:8]
    # Not in any column of the row, nor anywhere on the list page afterwards.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM crm_apitoken WHERE id = %s", [token.pk])
        row = cursor.fetchone()
    assert not any(secret in str(value) for value in row)
    listing = owner_client.get(LIST).content.decode()
    assert "Web shop" in listing and f"{secret[:8]}…" in listing
    assert secret not in listing

    # The secret works, as the Owner who made it.
    assert api_client.get(API, **bearer(secret)).status_code == 200


def test_a_token_needs_a_name(owner_client):
    response = owner_client.post(LIST, {"name": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_the_list_shows_when_each_token_was_last_used(
    owner_client, owner_user, api_client
):
    token, secret = create_api_token(user=owner_user, name="Till")
    assert "never" in owner_client.get(LIST).content.decode()
    api_client.get(API, **bearer(secret))
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert "never" not in owner_client.get(LIST).content.decode()


def test_an_empty_list_says_so(owner_client):
    assert "No API tokens yet" in owner_client.get(LIST).content.decode()


# --- revoking ---------------------------------------------------------------


def test_revoking_asks_first_then_stops_the_token(owner_client, owner_user, api_client):
    token, secret = create_api_token(user=owner_user, name="Web shop")
    assert api_client.get(API, **bearer(secret)).status_code == 200

    confirm = owner_client.get(revoke_url(token))
    assert b"Yes, revoke" in confirm.content
    token.refresh_from_db()
    assert token.is_active  # a GET changes nothing

    response = owner_client.post(revoke_url(token))
    assert response.status_code == 302
    assert response["Location"] == LIST
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == owner_user
    assert api_client.get(API, **bearer(secret)).status_code == 401
    assert "revoked" in owner_client.get(LIST).content.decode()


def test_revoking_twice_says_so(owner_client, token):
    owner_client.post(revoke_url(token))
    response = owner_client.post(revoke_url(token), follow=True)
    assert "revoked already" in response.content.decode()


def test_an_owner_may_revoke_another_users_token(owner_client, staff_user, api_client):
    token, secret = create_api_token(user=staff_user, name="Staff script")
    owner_client.post(revoke_url(token))
    assert api_client.get(API, **bearer(secret)).status_code == 401


# --- throttling -------------------------------------------------------------


def test_a_token_past_its_rate_gets_429(
    settings, api_client, staff_token, staff_client
):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "2/minute"},
    }
    statuses = [
        api_client.get(API, **bearer(staff_token)).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    # Staff in the browsable API, with their session, are not counted.
    assert staff_client.get(API).status_code == 200
