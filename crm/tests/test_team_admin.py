"""The Owner group's admin, as the README and docs/security.md promise: an
Owner made on the team page logs into /admin/, deletes another user's lost
TOTP device (the documented recovery, on the audit trail, the key never shown)
and opens the loyalty and outreach models; Staff and demoted Owners cannot."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.audit.models import AuditEvent
from crm.team import services
from crm.tests.test_security_two_factor import authenticator, code, verify_redirect
from customers.roles import OWNER, STAFF
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the UserFactory's
LOGIN = reverse("login")
ADMIN = reverse("admin:index")
CUSTOMERS = reverse("customers:list")


def log_in(user) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def new_owner(owner_user, staff_user):
    """Staff made an Owner on the team page's service, as an Owner would."""
    services.change_role(by=owner_user, user=staff_user, role=OWNER)
    staff_user.refresh_from_db()
    return staff_user


def admin_models(app_label: str) -> list:
    return [
        model
        for model in apps.get_app_config(app_label).get_models()
        if admin.site.is_registered(model)
    ]


def test_an_owner_deletes_another_users_lost_device_in_the_admin(
    new_owner, other_staff_user
):
    lost = authenticator(other_staff_user)
    client = log_in(new_owner)
    assert client.get(ADMIN).status_code == 200

    changelist = client.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert changelist.status_code == 200
    assert other_staff_user.username in changelist.content.decode()
    change = client.get(reverse("admin:otp_totp_totpdevice_change", args=[lost.pk]))
    assert change.status_code == 200
    assert lost.key not in change.content.decode()  # the key stays hidden
    config = reverse("admin:otp_totp_totpdevice_config", args=[lost.pk])
    assert client.get(config).status_code == 403

    delete = reverse("admin:otp_totp_totpdevice_delete", args=[lost.pk])
    assert client.get(delete).status_code == 200
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=lost.pk).exists()

    (deleted,) = AuditEvent.objects.of_row("otp_totp_totpdevice", lost.pk).filter(
        action="delete"
    )
    assert deleted.actor == new_owner
    assert deleted.old_values["user_id"] == other_staff_user.pk
    assert "key" not in deleted.old_values

    # The user logs in with the password alone, and may set up a new phone.
    member = log_in(other_staff_user)
    assert member.get(CUSTOMERS).status_code == 200


def test_an_owner_with_two_factor_enters_the_code_before_the_admin(new_owner):
    device = authenticator(new_owner)
    client = log_in(new_owner)
    assert client.get(ADMIN)["Location"] == verify_redirect(ADMIN)
    client.post(reverse("security:two-factor-verify"), {"code": code(device)})
    assert client.get(ADMIN).status_code == 200


@pytest.mark.parametrize("app_label", ["loyalty", "communications"])
def test_an_owner_opens_every_loyalty_and_outreach_model_in_the_admin(
    new_owner, app_label
):
    client = log_in(new_owner)
    index = client.get(ADMIN).content.decode()
    models = admin_models(app_label)
    assert models
    for model in models:
        name = f"admin:{app_label}_{model._meta.model_name}_changelist"
        assert reverse(name) in index, name
        assert client.get(reverse(name)).status_code == 200, name


def test_an_owner_edits_outreach_settings_but_loyalty_only_reads(new_owner):
    client = log_in(new_owner)
    assert client.get(reverse("admin:communications_followuprule_add")).status_code == (
        200
    )
    assert client.get(reverse("admin:loyalty_reward_add")).status_code == 403


def test_staff_and_a_demoted_owner_have_no_admin(owner_user, new_owner, roles):
    staff = log_in(new_owner)
    services.change_role(by=owner_user, user=new_owner, role=STAFF)
    new_owner.refresh_from_db()
    assert not new_owner.is_staff
    response = staff.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_owner_cannot_make_anyone_a_superuser_or_take_one_over(
    new_owner, other_staff_user
):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = log_in(new_owner)
    change = reverse("admin:auth_user_change", args=[other_staff_user.pk])
    page = client.get(change).content.decode()
    assert 'name="username"' in page  # an ordinary login is theirs to edit
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    client.post(
        change,
        {
            "username": other_staff_user.username,
            "is_active": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    other_staff_user.refresh_from_db()
    assert not other_staff_user.is_superuser

    password = reverse("admin:auth_user_password_change", args=[root.pk])
    assert client.get(password).status_code == 403
    assert (
        client.post(
            password,
            {"password1": "taken over 123", "password2": "taken over 123"},
        ).status_code
        == 403
    )
    root.refresh_from_db()
    assert root.check_password(PASSWORD)
