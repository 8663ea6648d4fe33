"""Two-factor login for every role: setting it up (the first code confirms it),
the code page between the password and every other page, Staff setting it up
and asked as Owners are, turning it off with a current code, and django-otp's
throttling. Owners requiring it: test_security_two_factor_required.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.security.two_factor import CODE_PENDING
from crm.tests.test_security_headers import inline_parts

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the UserFactory's
LOGIN = reverse("login")
TWO_FACTOR = reverse("security:two-factor")
SETUP = reverse("security:two-factor-setup")
DISABLE = reverse("security:two-factor-disable")
VERIFY = reverse("security:two-factor-verify")
CUSTOMERS = reverse("customers:list")
DASHBOARD = reverse("dashboard:index")


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` steps later)."""
    t0 = device.t0 - steps_ahead * device.step
    return f"{totp(device.bin_key, device.step, t0, device.digits):06d}"


def wrong_code(device: TOTPDevice) -> str:
    accepted = {code(device, steps) for steps in (-1, 0, 1)}
    return next(
        c for c in ("000000", "111111", "222222", "333333") if c not in accepted
    )


def wait_out_throttling(device: TOTPDevice) -> None:
    """As if the user waited: the last failure lies an hour back."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(hours=1)
    )


def authenticator(user, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=confirmed)


def password_login(client, user):
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return response


def verify_redirect(path: str) -> str:
    return f"{VERIFY}?next={path.replace('/', '%2F')}"


def test_setting_up_shows_a_qr_code_and_the_first_right_code_turns_it_on(
    owner_client, owner_user
):
    assert "is <strong>off</strong>" in owner_client.get(TWO_FACTOR).content.decode()
    assert owner_client.post(TWO_FACTOR)["Location"] == SETUP
    device = TOTPDevice.objects.get(user=owner_user)
    assert not device.confirmed  # not on until a code proves the app has it

    page = owner_client.get(SETUP).content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "style=" not in svg and "<script" not in svg  # nothing for CSP to block
    assert inline_parts(page) == []
    secret = page.split('<code class="fs-5" id="secret">')[1].split("</code>")[0]
    assert secret.replace(" ", "") == device.config_url.split("secret=")[1][:32]

    refused = owner_client.post(SETUP, {"code": wrong_code(device)})
    assert refused.status_code == 200
    assert "That code is not right" in refused.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    wait_out_throttling(device)
    response = owner_client.post(SETUP, {"code": code(device)})
    assert response["Location"] == TWO_FACTOR
    device.refresh_from_db()
    assert device.confirmed
    # This session showed a code: it is verified and keeps working.
    assert owner_client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert owner_client.get(DASHBOARD).status_code == 200
    assert "is <strong>on</strong>" in owner_client.get(TWO_FACTOR).content.decode()


def test_a_code_right_after_a_wrong_one_waits_for_the_throttle(
    owner_client, owner_user
):
    owner_client.post(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=owner_user)
    owner_client.post(SETUP, {"code": wrong_code(device)})
    too_soon = owner_client.post(SETUP, {"code": code(device)})
    assert "Too many wrong codes. Wait" in too_soon.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1


def test_codes_that_are_not_six_digits_are_refused_by_the_form(
    owner_client, owner_user
):
    owner_client.post(TWO_FACTOR)
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６"):
        response = owner_client.post(SETUP, {"code": bad})
        assert response.status_code == 200
        assert not TOTPDevice.objects.get(user=owner_user).confirmed


def test_after_the_password_an_owner_with_a_device_must_enter_a_code(
    client, owner_user
):
    device = authenticator(owner_user)
    password_login(client, owner_user)

    for path in (CUSTOMERS, DASHBOARD, TWO_FACTOR):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == verify_redirect(path)
    assert client.post(reverse("customers:create"), {})["Location"] == (
        verify_redirect("/")
    )

    page = client.get(verify_redirect(DASHBOARD))
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()
    assert inline_parts(page.content.decode()) == []

    refused = client.post(VERIFY, {"code": wrong_code(device), "next": DASHBOARD})
    assert refused.status_code == 200
    assert "That code is not right" in refused.content.decode()
    assert client.get(CUSTOMERS).status_code == 302

    wait_out_throttling(device)
    key_before = client.session.session_key
    response = client.post(VERIFY, {"code": code(device), "next": DASHBOARD})
    assert response["Location"] == DASHBOARD
    assert client.session.session_key != key_before
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(CUSTOMERS).status_code == 200


def test_a_used_code_cannot_be_used_again(client, owner_user):
    device = authenticator(owner_user)
    password_login(client, owner_user)
    used = code(device)
    client.post(VERIFY, {"code": used})
    client.post(reverse("logout"))

    password_login(client, owner_user)
    again = client.post(VERIFY, {"code": used})
    assert "That code is not right" in again.content.decode()
    assert client.get(CUSTOMERS).status_code == 302


def test_logging_out_works_while_the_code_is_owed(client, owner_user):
    authenticator(owner_user)
    password_login(client, owner_user)
    assert client.post(reverse("logout"))["Location"] == LOGIN
    response = client.get(CUSTOMERS)
    assert response["Location"].startswith(LOGIN)


def test_staff_set_it_up_and_are_then_asked_for_a_code(client, staff_user):
    password_login(client, staff_user)
    assert "is <strong>off</strong>" in client.get(TWO_FACTOR).content.decode()
    assert client.post(TWO_FACTOR)["Location"] == SETUP
    device = TOTPDevice.objects.get(user=staff_user)
    assert client.post(SETUP, {"code": code(device)})["Location"] == TWO_FACTOR
    device.refresh_from_db()
    assert device.confirmed
    client.post(reverse("logout"))

    password_login(client, staff_user)
    assert client.session[CODE_PENDING] is True
    assert client.get(CUSTOMERS)["Location"] == verify_redirect(CUSTOMERS)
    response = client.post(VERIFY, {"code": code(device, 1), "next": CUSTOMERS})
    assert response["Location"] == CUSTOMERS
    assert client.get(CUSTOMERS).status_code == 200


def test_a_staff_device_made_elsewhere_asks_for_a_code_too(client, staff_user):
    # Say, made in the admin: whoever has a confirmed device owes a code.
    authenticator(staff_user)
    password_login(client, staff_user)
    assert client.get(CUSTOMERS)["Location"] == verify_redirect(CUSTOMERS)


def test_the_two_factor_page_is_in_everyones_menu(staff_client):
    page = staff_client.get(CUSTOMERS).content.decode()
    assert f'href="{TWO_FACTOR}"' in page


def test_without_a_confirmed_device_an_owner_is_not_asked(client, owner_user):
    authenticator(owner_user, confirmed=False)  # set-up begun, never confirmed
    password_login(client, owner_user)
    assert client.get(DASHBOARD).status_code == 200


def test_the_code_page_does_not_send_anyone_to_another_site(client, owner_user):
    device = authenticator(owner_user)
    password_login(client, owner_user)
    response = client.post(
        VERIFY, {"code": code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == CUSTOMERS


def test_turning_it_off_needs_a_current_code(owner_client, owner_user):
    device = authenticator(owner_user)

    missing = owner_client.post(DISABLE, {"code": ""})
    assert missing.status_code == 200
    assert "This field is required" in missing.content.decode()
    refused = owner_client.post(DISABLE, {"code": wrong_code(device)})
    assert "That code is not right" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=owner_user).exists()

    wait_out_throttling(device)
    response = owner_client.post(DISABLE, {"code": code(device)})
    assert response["Location"] == TWO_FACTOR
    assert not TOTPDevice.objects.filter(user=owner_user).exists()

    owner_client.post(reverse("logout"))
    password_login(owner_client, owner_user)
    assert owner_client.get(DASHBOARD).status_code == 200  # no code asked now


def test_setting_up_again_while_on_is_refused(owner_client, owner_user):
    device = authenticator(owner_user)
    owner_client.post(TWO_FACTOR)
    assert list(TOTPDevice.objects.filter(user=owner_user)) == [device]
    assert owner_client.get(SETUP)["Location"] == TWO_FACTOR
