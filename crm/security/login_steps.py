"""What a session still owes after the password, before any other page opens.

One step at a time, in this order, so that the steps' pages never send to each
other:

1. the code from the authenticator app (two_factor.py stamps CODE_PENDING at
   login for anyone with a confirmed device);
2. a new password, after a one-time password an Owner handed out
   (crm.team.passwords stamps PASSWORD_CHANGE_DUE at login);
3. setting up two-factor login, while the Owners require it and the session has
   no verified device. Decided here on each request rather than at login, so it
   reaches sessions that began before the requirement was switched on and users
   whose device an Owner deleted; the requirement itself is cached
   (models.two_factor_required), so it costs no query while it is off.

Logging in and out always work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import two_factor_required

CODE_PENDING = "crm_2fa_pending"
PASSWORD_CHANGE_DUE = "crm_password_change_due"
ALWAYS_OPEN = ("login", "logout")


@dataclass(frozen=True)
class Step:
    # The page the session is sent to, and the pages it may use meanwhile.
    target: str
    opens: tuple[str, ...]
    # Whether the page sends on to where the user was going once done.
    keeps_next: bool = False

    def redirect(self, request: HttpRequest) -> HttpResponseRedirect:
        url = reverse(self.target)
        if self.keeps_next:
            target = request.get_full_path() if request.method == "GET" else "/"
            url = f"{url}?{urlencode({'next': target})}"
        return HttpResponseRedirect(url)

    def allows(self, path: str) -> bool:
        return path in {reverse(name) for name in (*self.opens, *ALWAYS_OPEN)}


CODE = Step(
    "security:two-factor-verify", ("security:two-factor-verify",), keeps_next=True
)
NEW_PASSWORD = Step("password_change", ("password_change",))
SET_UP = Step(
    "security:two-factor", ("security:two-factor", "security:two-factor-setup")
)


def owed_step(request: HttpRequest) -> Step | None:
    """The first step this logged-in session still owes, or None."""
    session = request.session
    if session.get(CODE_PENDING):
        return CODE
    if session.get(PASSWORD_CHANGE_DUE):
        return NEW_PASSWORD
    if two_factor_required() and not request.user.is_verified():
        user = request.user
        if TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
            # A device made (or a session begun) without a code asked: ask now.
            session[CODE_PENDING] = True
            return CODE
        return SET_UP
    return None


class LoginStepsMiddleware:
    """Sends a session that owes a step to that step's page (after OTPMiddleware,
    which tells whether the session's device is verified)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            step = owed_step(request)
            if step is not None and not step.allows(request.path):
                return step.redirect(request)
        return self.get_response(request)
