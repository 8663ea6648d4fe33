"""Sessions end: after idle and absolute limits the Owner sets, when the
password changes (every other session of the user), and on deactivation; every
login gets a new session key."""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from crm.security.models import CACHE_KEY, SecuritySettings
from crm.security.sessions import LOGIN_AT, SEEN_AT
from customers.roles import STAFF
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a long and fine password"
NEW_PASSWORD = "another long fine passphrase"
HOME = reverse("customers:list")
ENGINES = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
]


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


@pytest.fixture
def sam(roles):
    user = UserFactory(username="sam", password=PASSWORD)
    user.groups.add(Group.objects.get(name=STAFF))
    return user


def logged_in(username="sam", password=PASSWORD) -> Client:
    client = Client()
    response = client.post(
        reverse("login"), {"username": username, "password": password}
    )
    assert response.status_code == 302, response.content
    return client


def age(client: Client, **seconds_ago: int) -> None:
    """Move the session's login or last-seen time into the past."""
    session = client.session
    now = time.time()
    if "login" in seconds_ago:
        session[LOGIN_AT] = now - seconds_ago["login"]
    if "seen" in seconds_ago:
        session[SEEN_AT] = now - seconds_ago["seen"]
    session.save()


def is_logged_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("login")
    )


def test_every_login_gets_a_new_session_key(sam):
    client = Client()
    before = client.session
    before["cart"] = "something from before the login"
    before.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = before.session_key
    client.post(reverse("login"), {"username": "sam", "password": PASSWORD})
    after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert after != before.session_key
    assert not Session.objects.filter(session_key=before.session_key).exists()
    assert client.get(HOME).status_code == 200


@pytest.mark.parametrize("engine", ENGINES)
def test_a_password_change_ends_every_other_session(settings, sam, engine):
    settings.SESSION_ENGINE = engine
    here, elsewhere = logged_in(), logged_in()
    assert elsewhere.get(HOME).status_code == 200

    response = here.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert here.get(HOME).status_code == 200  # the session that changed it stays
    assert is_logged_out(elsewhere.get(HOME))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_password_set_elsewhere_ends_every_session(settings, sam, engine):
    settings.SESSION_ENGINE = engine
    first, second = logged_in(), logged_in()
    sam.set_password(NEW_PASSWORD)  # e.g. an Owner in the admin, or the shell
    sam.save()
    assert is_logged_out(first.get(HOME))
    assert is_logged_out(second.get(HOME))


@pytest.mark.parametrize("engine", ENGINES)
def test_deactivating_a_user_ends_their_sessions(settings, sam, engine):
    settings.SESSION_ENGINE = engine
    client = logged_in()
    sam.is_active = False
    sam.save(update_fields=["is_active"])
    assert is_logged_out(client.get(HOME))


def test_a_login_expires_at_the_absolute_limit(sam):
    # The cookie and the stored session end then even if nobody checks.
    client = logged_in()
    assert abs(client.session.get_expiry_age() - 12 * 3600) <= 5


def test_an_idle_session_ends_with_a_message(sam):
    client = logged_in()
    age(client, seen=31 * 60)
    response = client.get(HOME)
    assert is_logged_out(response)
    follow = client.get(response["Location"])
    assert "without activity" in follow.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_active_session_lasts_and_its_last_seen_moves(sam):
    client = logged_in()
    age(client, login=3 * 3600, seen=29 * 60)
    assert client.get(HOME).status_code == 200
    assert time.time() - client.session[SEEN_AT] < 5
    assert client.get(HOME).status_code == 200


def test_a_session_ends_at_the_absolute_time_however_active(sam):
    client = logged_in()
    age(client, login=12 * 3600 + 5, seen=10)
    assert is_logged_out(client.get(HOME))


def test_the_owners_limits_apply_to_open_sessions(sam, owner_client):
    client = logged_in()
    age(client, seen=11 * 60)
    assert client.get(HOME).status_code == 200  # within the default 30 minutes
    response = owner_client.post(
        reverse("security:settings"),
        {"idle_timeout_minutes": 10, "absolute_timeout_hours": 8},
    )
    assert response.status_code == 302
    age(client, seen=11 * 60)
    assert is_logged_out(client.get(HOME))
    stored = SecuritySettings.load()
    assert (stored.idle_timeout_minutes, stored.absolute_timeout_hours) == (10, 8)


@pytest.mark.parametrize(
    "data, field",
    [
        (
            {"idle_timeout_minutes": 600, "absolute_timeout_hours": 2},
            "idle_timeout_minutes",
        ),
        (
            {"idle_timeout_minutes": 1, "absolute_timeout_hours": 8},
            "idle_timeout_minutes",
        ),
        (
            {"idle_timeout_minutes": 30, "absolute_timeout_hours": 0},
            "absolute_timeout_hours",
        ),
        (
            {"idle_timeout_minutes": 30, "absolute_timeout_hours": 10**9},
            "absolute_timeout_hours",
        ),
        (
            {"idle_timeout_minutes": "x", "absolute_timeout_hours": 8},
            "idle_timeout_minutes",
        ),
        (
            {"idle_timeout_minutes": -5, "absolute_timeout_hours": 8},
            "idle_timeout_minutes",
        ),
    ],
)
def test_unsafe_limits_are_refused_beside_the_field(owner_client, data, field):
    response = owner_client.post(reverse("security:settings"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not SecuritySettings.objects.exists()


def test_the_defaults_are_safe():
    defaults = SecuritySettings.load()
    assert defaults.idle_timeout_minutes <= 60
    assert defaults.absolute_timeout_hours <= 24


def test_the_user_lookup_returns_active_users_only(django_user_model):
    from django.contrib.auth.backends import ModelBackend

    backend = ModelBackend()
    active = django_user_model.objects.create(username="ada")
    gone = django_user_model.objects.create(username="bob", is_active=False)
    assert backend.get_user(active.pk) == active
    assert backend.get_user(gone.pk) is None
    assert backend.get_user(987654) is None
