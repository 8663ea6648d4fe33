"""Two-factor login for everyone: a TOTP authenticator app (django-otp).

Anyone who logs in (Staff, Owners, a user in no group) may turn it on for
themselves: a new, unconfirmed device shows its QR code and secret, and becomes
active once the first code from the app is right. Turning it off asks for a
current code too, and is refused while the Owners require two-factor login
(SecuritySettings.require_two_factor). From then on, a password login of that
user only marks the session "code pending" (stamped at login, so a user without
a device costs no query per request); LoginStepsMiddleware (login_steps.py)
sends such a session to the code page until a right code is entered, and, while
two-factor is required, a session without a verified device to the set-up.

Wrong codes count towards django-otp's throttling, kept on the device: after
each one the next try must wait twice as long as the one before, whichever
session or page (login, confirm, turn off) it comes from.
"""

from __future__ import annotations

from base64 import b32encode
from collections.abc import Callable

import qrcode
import qrcode.image.svg
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .login_steps import CODE_PENDING
from .models import two_factor_required

DEVICE_NAME = "Authenticator app"
WRONG_CODE = (
    "That code is not right. Enter the 6-digit code your authenticator app shows "
    "now (check that the phone's clock is right)."
)


REQUIRED = (
    "Two-factor login is required for everyone here, so it cannot be turned off. "
    "If the phone is lost, an Owner deletes its device in the admin (TOTP devices) "
    "and you set up a new one at your next login."
)


class CodeRefused(ValidationError):
    """A wrong code, or one sent too soon after wrong ones (throttled)."""


def confirmed_device(user) -> TOTPDevice | None:
    """The user's active authenticator, if two-factor is on."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def pending_device(user) -> TOTPDevice | None:
    """The authenticator being set up, not yet confirmed with a code."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=False).first()


@transaction.atomic
def start_two_factor(*, user) -> TOTPDevice:
    """A new secret to scan; two-factor is on only once a code confirms it."""
    if TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
        raise ValidationError("Two-factor login is on already.")
    TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def confirm_two_factor(*, user, code: str) -> TOTPDevice:
    """Turn two-factor on with the first code from the app just set up."""
    device = pending_device(user)
    if device is None:
        raise CodeRefused("Start the set-up again: there is no code to confirm.")

    def activate(locked: TOTPDevice) -> None:
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])

    return _check_code(device, code, then=activate)


def disable_two_factor(*, user, code: str) -> None:
    """Turn two-factor off; a current code proves the phone is at hand."""
    device = confirmed_device(user)
    if device is None:
        raise CodeRefused("Two-factor login is off already.")
    if two_factor_required():
        raise CodeRefused(REQUIRED)
    _check_code(
        device,
        code,
        then=lambda locked: TOTPDevice.objects.filter(user_id=locked.user_id).delete(),
    )


def verify_login_code(*, user, code: str) -> TOTPDevice:
    """The device that accepts the code at login; CodeRefused otherwise."""
    device = confirmed_device(user)
    if device is None:
        raise CodeRefused("Two-factor login is not on for this account.")
    return _check_code(device, code)


def _check_code(
    device: TOTPDevice,
    code: str,
    *,
    then: Callable[[TOTPDevice], object] | None = None,
) -> TOTPDevice:
    # The refusal is raised after the transaction commits: the failure count
    # django-otp just wrote is what throttles the next guess.
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, details = locked.verify_is_allowed()
        if not allowed:
            refusal = _throttled_message(details)
        elif not locked.verify_token(code):
            refusal = WRONG_CODE
        else:
            refusal = None
            if then is not None:
                then(locked)
    if refusal:
        raise CodeRefused(refusal)
    return locked


def _throttled_message(details: dict | None) -> str:
    until = (details or {}).get("locked_until")
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 1
    return (
        f"Too many wrong codes. Wait {seconds} second{'s' if seconds != 1 else ''} "
        "and try again with the code the app shows then."
    )


def secret_of(device: TOTPDevice) -> str:
    """The secret as an app expects it typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// link as an inline SVG QR code (no image file,
    nothing inline for the Content-Security-Policy to block)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8
    )
    return image.to_string(encoding="unicode")


@receiver(user_logged_in, dispatch_uid="crm.security.two_factor_pending")
def mark_code_pending(sender, request: HttpRequest, user, **kwargs) -> None:
    """After the password, anyone with an authenticator still owes a code."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(CODE_PENDING, None)
    if confirmed_device(user) is not None:
        request.session[CODE_PENDING] = True
