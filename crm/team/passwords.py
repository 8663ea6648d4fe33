"""Passwords handed out on the team page, and the change they force.

Two ways to give someone a password, each for an invitation or a reset:

- a set-password link by e-mail: Django's password reset token
  (default_token_generator) for the built-in PasswordResetConfirmView under
  /accounts/reset/; the token is made from the user's current password hash and
  last login, so it stops working once used, once the password changes
  otherwise, and after PASSWORD_RESET_TIMEOUT;
- a one-time password, shown once to the Owner to print or pass on: random
  (secrets), never stored but as its hash, and marked on the user's TeamMember
  so that, after logging in with it, no other page opens until a new password
  is chosen (crm.security.login_steps).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.dispatch import receiver
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from crm.security.login_steps import PASSWORD_CHANGE_DUE

from .models import TeamMember

# No 0/O, 1/l/I: read off paper and typed in by hand.
ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_LENGTH = 4, 4


class EmailNotSent(Exception):
    """The set-password e-mail could not be handed to the mail server."""


def one_time_password() -> str:
    """A random password in four groups of four (about 92 bits)."""
    return "-".join(
        "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH))
        for _ in range(GROUPS)
    )


def set_password_link(user) -> str:
    """The absolute set-password link for `user`'s current password."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


def send_set_password_email(*, user, by, invited: bool) -> None:
    """E-mail `user` a link to set their password; EmailNotSent on failure.

    Called once the account's change is committed: the token is made from the
    stored password hash, and a failure to send must reach the Owner, who can
    then send again or hand out a one-time password.
    """
    context = {
        "user": user,
        "by": by,
        "invited": invited,
        "link": set_password_link(user),
        "business_name": settings.BUSINESS_NAME,
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "login_url": settings.SITE_URL.rstrip("/") + reverse("login"),
    }
    subject = " ".join(
        render_to_string("crm/emails/set_password_subject.txt", context).split()
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("crm/emails/set_password_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    try:
        message.send()
    except Exception as error:  # SMTP, a provider's API: any of them may fail
        raise EmailNotSent(str(error)) from error


@receiver(user_logged_in, dispatch_uid="crm.team.password_change_due")
def mark_password_change_due(sender, request: HttpRequest, user, **kwargs) -> None:
    """After a one-time password, the session owes a new one."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(PASSWORD_CHANGE_DUE, None)
    if TeamMember.objects.filter(user=user, must_change_password=True).exists():
        request.session[PASSWORD_CHANGE_DUE] = True


def clear_password_change_due(*, user) -> None:
    """The user chose their own password: the one-time one is gone."""
    TeamMember.objects.filter(user=user, must_change_password=True).update(
        must_change_password=False
    )
