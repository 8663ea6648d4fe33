"""The team page's changes: confirmation pages that change nothing, role
changes (and the admin flag that follows them), password resets, deactivation
(sessions end, no login) and reactivation, the last active Owner kept, and the
audit rows each change writes (PostgreSQL), never with a password hash."""

from __future__ import annotations

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.audit.models import AuditEvent
from crm.team import services
from crm.team.models import TeamMember
from crm.tests.test_security_headers import inline_parts
from crm.tests.test_team_invite import NEW_PASSWORD, link_in, log_in
from customers.roles import OWNER, STAFF
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct horse battery staple"  # the UserFactory's
TEAM = reverse("team:list")
CUSTOMERS = reverse("customers:list")
LOGIN = reverse("login")


def url(action: str, user) -> str:
    return reverse(f"team:{action}", args=[user.pk])


def another_owner(username: str = "oscar", **fields):
    user = UserFactory(username=username, is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=OWNER))
    return user


def roles_of(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def is_logged_out(client) -> bool:
    response = client.get(CUSTOMERS)
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def sessions_of(user) -> int:
    return sum(
        1
        for session in Session.objects.all()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    )


def team_events(table: str, user_or_pk) -> list[AuditEvent]:
    row_id = getattr(user_or_pk, "pk", user_or_pk)
    return list(AuditEvent.objects.of_row(table, row_id).order_by("id"))


def state(user) -> tuple:
    user = User.objects.get(pk=user.pk)
    return (
        user.password,
        user.is_active,
        user.is_staff,
        roles_of(user),
        TeamMember.objects.count(),
        AuditEvent.objects.count(),
        len(mail.outbox),
    )


@pytest.mark.parametrize("action", ["role", "reset-password", "deactivate"])
def test_each_confirmation_page_asks_and_changes_nothing(
    owner_client, staff_user, action
):
    before = state(staff_user)
    page = owner_client.get(url(action, staff_user))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Are you sure?" in html and 'id="consequences"' in html
    assert '<form method="post">' in html
    assert inline_parts(html) == []
    assert state(staff_user) == before


def test_the_reactivation_page_asks_and_changes_nothing(owner_client):
    gone = UserFactory(username="gone", is_active=False)
    before = state(gone)
    page = owner_client.get(url("reactivate", gone))
    assert "Are you sure?" in page.content.decode()
    assert state(gone) == before


def test_making_staff_an_owner_and_back_is_audited(
    owner_client, owner_user, staff_user
):
    owner_group = Group.objects.get(name=OWNER)
    response = owner_client.post(url("role", staff_user), {"role": OWNER})
    assert response["Location"] == TEAM
    staff_user.refresh_from_db()
    assert roles_of(staff_user) == {OWNER}
    assert staff_user.is_staff  # the admin is the Owners'

    origin = f"POST {url('role', staff_user)}"
    (became_staff,) = team_events("auth_user", staff_user)[-1:]
    assert became_staff.changes == {"is_staff": {"old": False, "new": True}}
    assert (became_staff.actor, became_staff.origin) == (owner_user, origin)
    memberships = AuditEvent.objects.of_table("auth_user_groups").filter(origin=origin)
    added = memberships.get(action="insert")
    assert added.new_values["user_id"] == staff_user.pk
    assert added.new_values["group_id"] == owner_group.pk
    assert added.actor == owner_user
    removed = memberships.get(action="delete")
    assert removed.old_values["group_id"] == Group.objects.get(name=STAFF).pk

    owner_client.post(url("role", staff_user), {"role": STAFF})
    staff_user.refresh_from_db()
    assert roles_of(staff_user) == {STAFF}
    assert not staff_user.is_staff


def test_the_last_active_owner_cannot_step_down_or_leave(owner_client, owner_user):
    # A deactivated Owner does not count.
    another_owner(is_active=False)
    for action, data in (("role", {"role": STAFF}), ("deactivate", {})):
        page = owner_client.get(url(action, owner_user)).content.decode()
        assert "You are the last active Owner" in page
        assert "Yes," not in page  # no button to press
        response = owner_client.post(url(action, owner_user), data, follow=True)
        assert "You are the last active Owner" in response.content.decode()
    owner_user.refresh_from_db()
    assert roles_of(owner_user) == {OWNER} and owner_user.is_active
    assert owner_client.get(TEAM).status_code == 200


def test_the_last_owner_is_kept_whoever_asks(owner_user):
    # Service level: a superuser's request is refused the same way.
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    services.deactivate_member(by=root, user=root)  # leaves olive
    with pytest.raises(ValidationError, match="olive is the last active Owner"):
        services.change_role(by=root, user=owner_user, role=STAFF)


def test_with_another_owner_an_owner_may_step_down(owner_client, owner_user):
    another_owner()
    response = owner_client.post(url("role", owner_user), {"role": STAFF})
    assert response["Location"] == CUSTOMERS
    owner_user.refresh_from_db()
    assert roles_of(owner_user) == {STAFF} and not owner_user.is_staff
    assert owner_client.get(TEAM).status_code == 403


def test_a_superusers_role_is_not_changed_here(owner_client):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    page = owner_client.get(url("role", root)).content.decode()
    assert "always an Owner" in page
    owner_client.post(url("role", root), {"role": STAFF})
    assert roles_of(root) == set()


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(roles):
    # Each on its own connection, as two Owners' requests: the Owner group's
    # row is locked first, so the second sees the first's change and refuses.
    first, second = another_owner("first"), another_owner("second")
    barrier = threading.Barrier(2)
    outcomes = {}

    def demote(by, user):
        try:
            barrier.wait()
            services.change_role(by=by, user=user, role=STAFF)
            outcomes[by.username] = "demoted"
        except ValidationError:
            outcomes[by.username] = "refused"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["demoted", "refused"]
    owners = User.objects.filter(groups__name=OWNER, is_active=True)
    assert owners.count() == 1


def test_a_reset_by_link_stops_the_old_password_and_sessions(
    owner_client, owner_user, staff_user
):
    member = log_in("sam", PASSWORD)
    response = owner_client.post(
        url("reset-password", staff_user), {"delivery": "link"}
    )
    assert response["Location"] == TEAM
    assert is_logged_out(member)
    assert (
        Client().post(LOGIN, {"username": "sam", "password": PASSWORD}).status_code
        == 200
    )

    (message,) = mail.outbox
    assert message.to == [staff_user.email]
    assert "new password" in message.subject
    invitee = Client()
    form_page = invitee.get(link_in(message), follow=True)
    invitee.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert log_in("sam", NEW_PASSWORD).get(CUSTOMERS).status_code == 200

    (reset,) = team_events("crm_teammember", TeamMember.objects.get(user=staff_user))
    assert reset.actor == owner_user
    assert reset.new_values["password_reset_by_id"] == owner_user.pk


def test_a_reset_with_a_one_time_password_forces_a_change(owner_client, staff_user):
    response = owner_client.post(
        url("reset-password", staff_user), {"delivery": "password"}
    )
    assert "no-store" in response["Cache-Control"]
    password = re.search(
        r'id="one-time-password">([^<]+)<', response.content.decode()
    ).group(1)
    assert not mail.outbox
    member = log_in("sam", password)
    assert member.get(CUSTOMERS)["Location"] == reverse("password_change")


def test_an_owner_resets_their_own_password_elsewhere(owner_client, owner_user):
    page = owner_client.get(url("reset-password", owner_user)).content.decode()
    assert "use Change password" in page
    before = state(owner_user)
    owner_client.post(url("reset-password", owner_user), {"delivery": "password"})
    assert state(owner_user) == before


def test_deactivating_ends_every_session_and_the_login(
    owner_client, owner_user, staff_user
):
    first, second = log_in("sam", PASSWORD), log_in("sam", PASSWORD)
    assert sessions_of(staff_user) == 2
    response = owner_client.post(url("deactivate", staff_user))
    assert response["Location"] == TEAM
    staff_user.refresh_from_db()
    assert not staff_user.is_active
    assert sessions_of(staff_user) == 0
    assert is_logged_out(first) and is_logged_out(second)
    refused = Client().post(LOGIN, {"username": "sam", "password": PASSWORD})
    assert refused.status_code == 200  # the login form again, with its error

    (event,) = team_events("auth_user", staff_user)[-1:]
    assert event.changes == {"is_active": {"old": True, "new": False}}
    assert event.actor == owner_user
    assert event.origin == f"POST {url('deactivate', staff_user)}"

    # Reactivated, they log in again; the old sessions stay ended.
    owner_client.post(url("reactivate", staff_user))
    assert is_logged_out(first)
    assert log_in("sam", PASSWORD).get(CUSTOMERS).status_code == 200
    (back,) = team_events("auth_user", staff_user)[-1:]
    assert back.changes == {"is_active": {"old": False, "new": True}}


def test_deactivating_yourself_logs_you_out(owner_client, owner_user):
    another_owner()
    response = owner_client.post(url("deactivate", owner_user))
    assert response["Location"] == LOGIN
    assert is_logged_out(owner_client)
    owner_user.refresh_from_db()
    assert not owner_user.is_active


@pytest.mark.parametrize(
    "action, data",
    [
        ("role", {"role": OWNER}),
        ("reset-password", {"delivery": "password"}),
        ("deactivate", {}),
    ],
)
def test_staff_cannot_change_the_team(staff_client, other_staff_user, action, data):
    before = state(other_staff_user)
    assert staff_client.post(url(action, other_staff_user), data).status_code == 403
    assert state(other_staff_user) == before


def test_the_trail_never_holds_a_password_hash(owner_client, staff_user):
    owner_client.post(
        reverse("team:invite"),
        {
            "first_name": "Nina",
            "email": "nina@example.com",
            "role": STAFF,
            "delivery": "password",
        },
    )
    owner_client.post(url("reset-password", staff_user), {"delivery": "password"})
    hashes = set(User.objects.values_list("password", flat=True))
    events = AuditEvent.objects.filter(
        table_name__in=["auth_user", "crm_teammember", "auth_user_groups"]
    )
    assert events.count() >= 4
    for event in events:
        values = {**(event.old_values or {}), **(event.new_values or {})}
        assert "password" not in values
        assert not hashes & {str(v) for v in values.values()}
