"""The team page's list and invitations: by an e-mailed set-password link (end
to end: the mail, the link, the new password, the login) or by a one-time
password that must be changed at the first login; duplicates refused beside
their field; a failed e-mail reported, the login kept."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.team.models import TeamMember
from customers.roles import OWNER, STAFF
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
TEAM = reverse("team:list")
INVITE = reverse("team:invite")
LOGIN = reverse("login")
CUSTOMERS = reverse("customers:list")
PASSWORD_CHANGE = reverse("password_change")
NEW_PASSWORD = "a brand new passphrase 42"


def invite(client, **fields):
    data = {
        "first_name": "Nina",
        "last_name": "Berg",
        "email": "nina@example.com",
        "username": "",
        "role": STAFF,
        "delivery": "link",
        **fields,
    }
    return client.post(INVITE, data)


def log_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()
    return client


def link_in(message) -> str:
    """The set-password link's path (the e-mail has it absolute, on SITE_URL)."""
    (url,) = re.findall(r"https?://\S+/accounts/reset/\S+/", message.body)
    return urlsplit(url).path


def test_the_list_shows_everyone_with_role_two_factor_and_last_login(
    owner_client, owner_user, staff_user, django_assert_max_num_queries
):
    gone = UserFactory(username="gone", first_name="Gus", is_active=False)
    # The user and their groups (the session is in the cache), the count, one
    # query for the page of members (role and two-factor as subqueries, however
    # many rows), and the nav bar's segments and follow-ups: 6.
    with django_assert_max_num_queries(6):
        page = owner_client.get(TEAM)
    assert page.status_code == 200
    html = page.content.decode()
    rows = {m.username: m for m in page.context["members"]}
    assert set(rows) == {"olive", "sam", "gone"}
    assert rows["olive"].in_owner_group and rows["sam"].in_staff_group
    assert not rows["sam"].two_factor_on
    assert f'id="member-{gone.pk}"' in html and "deactivated" in html
    assert reverse("team:reactivate", args=[gone.pk]) in html
    assert reverse("team:deactivate", args=[staff_user.pk]) in html
    assert "never" in html  # nobody here logged in through the login page


def test_the_list_pages_and_searches_with_an_empty_state(owner_client):
    UserFactory.create_batch(55)
    first = owner_client.get(TEAM)
    assert len(first.context["members"]) == 50
    assert first.context["page_obj"].has_next()
    assert len(owner_client.get(TEAM + "?page=2").context["members"]) == 6
    found = owner_client.get(TEAM + "?q=olive")
    assert [m.username for m in found.context["members"]] == ["olive"]
    empty = owner_client.get(TEAM + "?q=nobody-like-this")
    assert 'id="team-empty"' in empty.content.decode()


def test_the_security_page_links_to_the_team(owner_client):
    assert TEAM in owner_client.get(reverse("security:settings")).content.decode()


def test_an_invitation_by_link_end_to_end(owner_client, owner_user):
    assert owner_client.get(INVITE).status_code == 200
    response = invite(owner_client)
    assert response["Location"] == TEAM

    nina = User.objects.get(email="nina@example.com")
    assert nina.username == "nina@example.com"
    assert set(nina.groups.values_list("name", flat=True)) == {STAFF}
    assert not nina.is_staff  # the admin is the Owners'
    assert not nina.has_usable_password()
    assert TeamMember.objects.get(user=nina).invited_by == owner_user

    (message,) = mail.outbox
    assert message.to == ["nina@example.com"]
    assert "Your login for" in message.subject
    link = link_in(message)

    invitee = Client()
    form_page = invitee.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"]
    set_password_url = form_page.redirect_chain[-1][0]
    done = invitee.post(
        set_password_url,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == reverse("password_reset_complete")

    member = log_in("nina@example.com", NEW_PASSWORD)
    assert member.get(CUSTOMERS).status_code == 200
    # The link worked once.
    again = Client().get(link, follow=True)
    assert not again.context["validlink"]


def test_an_owner_invited_as_owner_gets_the_admin(owner_client):
    invite(owner_client, role=OWNER, email="otto@example.com", username="otto")
    otto = User.objects.get(username="otto")
    assert set(otto.groups.values_list("name", flat=True)) == {OWNER}
    assert otto.is_staff


def test_an_invitation_with_a_one_time_password_forces_a_change(owner_client):
    response = invite(owner_client, delivery="password", username="nina")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    password = re.search(r'id="one-time-password">([^<]+)<', html).group(1)
    assert len(password) == 19 and password.count("-") == 3
    assert not mail.outbox
    assert TeamMember.objects.get(user__username="nina").must_change_password

    member = log_in("nina", password)
    for path in (CUSTOMERS, reverse("customers:tags")):
        assert member.get(path)["Location"] == PASSWORD_CHANGE, path
    page = member.get(PASSWORD_CHANGE)
    assert 'id="change-due"' in page.content.decode()

    same = member.post(
        PASSWORD_CHANGE,
        {
            "old_password": password,
            "new_password1": password,
            "new_password2": password,
        },
    )
    assert "different from the current one" in same.content.decode()
    assert member.get(CUSTOMERS)["Location"] == PASSWORD_CHANGE

    changed = member.post(
        PASSWORD_CHANGE,
        {
            "old_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed["Location"] == reverse("password_change_done")
    assert member.get(CUSTOMERS).status_code == 200
    assert not TeamMember.objects.get(user__username="nina").must_change_password

    # The next login is an ordinary one; the one-time password is gone.
    assert log_in("nina", NEW_PASSWORD).get(CUSTOMERS).status_code == 200
    refused = Client().post(LOGIN, {"username": "nina", "password": password})
    assert refused.status_code == 200


def test_logging_out_works_while_the_new_password_is_owed(owner_client):
    response = invite(owner_client, delivery="password", username="nina")
    password = re.search(
        r'id="one-time-password">([^<]+)<', response.content.decode()
    ).group(1)
    member = log_in("nina", password)
    assert member.post(reverse("logout"))["Location"] == LOGIN


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"email": "SAM@example.com"}, "email"),
        ({"username": "SAM"}, "username"),
        # The e-mail address as username, taken by someone's username.
        ({"email": "sam2@example.com", "username": ""}, "email"),
    ],
)
def test_a_duplicate_email_or_username_is_refused_beside_the_field(
    owner_client, staff_user, fields, field
):
    UserFactory(username="sam2@example.com", email="other@example.com")
    before = User.objects.count()
    response = invite(owner_client, **fields)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert User.objects.count() == before
    assert not mail.outbox


def test_a_failed_email_is_reported_and_the_login_kept(owner_client, settings):
    # A real SMTP backend with nothing listening: the send fails.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        1,
        2,
    )
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    response = invite(owner_client)
    assert response["Location"] == TEAM
    page = owner_client.get(TEAM).content.decode()
    assert "could not be sent" in page
    assert User.objects.filter(email="nina@example.com").exists()


def test_staff_cannot_invite(staff_client):
    assert invite(staff_client).status_code == 403
    assert not User.objects.filter(email="nina@example.com").exists()
