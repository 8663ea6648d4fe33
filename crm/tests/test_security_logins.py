"""Logins: lockouts after repeated failures (by account and by address), the
Owner's lockout list, client addresses behind a proxy, password rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from customers.roles import STAFF
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LOGIN = reverse("login")
LOCKOUTS = reverse("security:lockouts")
UNLOCK = reverse("security:lockout-unlock")
PASSWORD = "a long and fine password"


@pytest.fixture
def sam(roles):
    user = UserFactory(username="sam", password=PASSWORD)
    user.groups.add(Group.objects.get(name=STAFF))
    return user


def log_in(client, username, password, ip="192.0.2.10", **headers):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


def fail(client, times, username="sam", ip="192.0.2.10", **headers):
    for _ in range(times):
        response = log_in(client, username, "wrong password", ip=ip, **headers)
        assert response.status_code in (200, 429)
    return response


def test_a_correct_password_logs_in(client, sam):
    response = log_in(client, "sam", PASSWORD)
    assert response.status_code == 302


def test_an_account_is_locked_after_five_failures_from_any_addresses(client, sam):
    for n in range(4):
        fail(client, 1, ip=f"198.51.100.{n}")
    locked = fail(client, 1, ip="198.51.100.99")
    assert locked.status_code == 429
    # Even the right password, from a fresh address, is refused for now.
    refused = log_in(client, "sam", PASSWORD, ip="203.0.113.7")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many failed logins" in page
    assert "15 minutes" in page
    assert 'name="username"' in page  # still the login page
    assert "_auth_user_id" not in client.session


def test_an_address_is_locked_after_five_failures_on_any_accounts(client, sam):
    for n in range(5):
        fail(client, 1, username=f"guess{n}", ip="192.0.2.66")
    assert log_in(client, "sam", PASSWORD, ip="192.0.2.66").status_code == 429
    # The account itself is not locked: from elsewhere it logs in.
    assert log_in(client, "sam", PASSWORD, ip="192.0.2.67").status_code == 302


def test_four_failures_do_not_lock(client, sam):
    fail(client, 4)
    assert log_in(client, "sam", PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, sam, settings):
    fail(client, 5)
    assert log_in(client, "sam", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.first().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    assert log_in(client, "sam", PASSWORD).status_code == 302


def test_authenticate_without_a_request_is_not_a_web_login(sam):
    # Commands and the shell have no address to count; they still check passwords.
    assert authenticate(username="sam", password=PASSWORD) == sam
    assert authenticate(username="sam", password="wrong") is None


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(client, sam):
    for n in range(5):
        fail(client, 1, username=f"guess{n}", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
    # Spoofed headers changed nothing: the real address is locked.
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "192.0.2.10"
    }
    assert log_in(client, "sam", PASSWORD).status_code == 429


def test_behind_a_trusted_proxy_the_client_address_is_the_proxys_last_hop(
    client, sam, settings
):
    settings.TRUST_PROXY_HEADERS = True
    settings.PROXY_COUNT = 1
    # The client sends a made-up header; the proxy appends the real address.
    for n in range(5):
        fail(
            client,
            1,
            username=f"guess{n}",
            ip="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.50",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
        "203.0.113.50"
    }
    locked = log_in(
        client, "sam", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50"
    )
    assert locked.status_code == 429
    other_client = log_in(
        client, "sam", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.51"
    )
    assert other_client.status_code == 302


def test_the_owner_sees_lockouts_and_unlocks_an_account(client, sam, owner_user):
    fail(client, 5)
    client.force_login(owner_user)
    page = client.get(LOCKOUTS)
    assert page.status_code == 200
    kinds = {(lockout.kind, lockout.value) for lockout in page.context["lockouts"]}
    assert kinds == {("username", "sam"), ("ip_address", "192.0.2.10")}

    response = client.post(UNLOCK, {"kind": "username", "value": "sam"})
    assert response.status_code == 302
    remaining = {(lo.kind, lo.value) for lo in client.get(LOCKOUTS).context["lockouts"]}
    assert ("username", "sam") not in remaining
    client.logout()
    assert log_in(client, "sam", PASSWORD, ip="192.0.2.99").status_code == 302


def test_unlocking_an_address(client, sam, owner_client):
    fail(client, 5, username="nobody-real", ip="192.0.2.200")
    owner_client.post(UNLOCK, {"kind": "ip_address", "value": "192.0.2.200"})
    assert log_in(client, "sam", PASSWORD, ip="192.0.2.200").status_code == 302


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "everything", "value": "sam"},
        {"kind": "username"},
        {"kind": "username", "value": "x" * 1000},
        {},
    ],
)
def test_a_bad_unlock_request_changes_nothing(client, sam, owner_client, data):
    fail(client, 5)
    response = owner_client.post(UNLOCK, data)
    assert response.status_code == 302
    assert AccessAttempt.objects.count() == 1


def test_unlock_is_post_only(owner_client):
    assert owner_client.get(UNLOCK).status_code == 405


@pytest.mark.parametrize("url", [LOCKOUTS, UNLOCK, reverse("security:settings")])
def test_only_owners_reach_the_security_pages(roles, staff_user, url):
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(f"{LOGIN}?next=")
    nobody, staff = Client(), Client()
    nobody.force_login(UserFactory(username="nobody"))
    staff.force_login(staff_user)
    for client in (nobody, staff):
        assert client.get(url).status_code == 403
        assert client.post(url, {"kind": "username", "value": "sam"}).status_code == 403


def test_the_owner_page_lists_nobody_when_nobody_is_locked(owner_client):
    page = owner_client.get(LOCKOUTS)
    assert page.context["lockouts"] == []
    assert "Nobody is locked out" in page.content.decode()


@pytest.mark.parametrize(
    "password, refused_because",
    [
        ("password123", "too common"),
        ("12345678901", "entirely numeric"),
        ("short1!", "too short"),
        ("sam@example.com", "too similar"),
    ],
)
def test_password_rules_refuse_weak_passwords(client, sam, password, refused_because):
    client.force_login(sam)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": password,
            "new_password2": password,
        },
    )
    assert response.status_code == 200
    assert refused_because in response.content.decode()
    sam.refresh_from_db()
    assert sam.check_password(PASSWORD)


def test_the_security_link_is_in_the_owners_nav_only(owner_client, roles):
    assert (
        'href="/settings/security/"'
        in owner_client.get(reverse("customers:list")).content.decode()
    )
    staff = Client()
    staff_user = UserFactory(username="sam2")
    staff_user.groups.add(Group.objects.get(name=STAFF))
    staff.force_login(staff_user)
    assert (
        'href="/settings/security/"'
        not in staff.get(reverse("customers:list")).content.decode()
    )
