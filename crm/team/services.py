"""Changes to the team: invite, change a role, reset a password, deactivate,
reactivate. Each runs in one transaction that locks the Owner group's row
first, then the user's: team changes happen one at a time, so two Owners
demoting each other at once cannot leave the business without an Owner.

The acting Owner is `by`; on the audit trail the request's user is the actor
(customers.audit_actor), the same person.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from crm.security.sessions import end_sessions_of
from customers.roles import OWNER, STAFF

from .models import TeamMember, active_owners
from .passwords import EmailNotSent, one_time_password, send_set_password_email

ROLES = (STAFF, OWNER)


class Delivery(models.TextChoices):
    LINK = "link", "E-mail a link to set a password"
    PASSWORD = "password", "Show a one-time password to hand over"


@dataclass(frozen=True)
class PasswordHandout:
    """What became of a new or reset password."""

    user: AbstractUser
    # Shown once to the Owner; None when a link was e-mailed.
    one_time_password: str | None = None
    # Why the link could not be e-mailed ("" when sent or not a link).
    email_error: str = ""


def name_of(user: AbstractUser) -> str:
    return user.get_full_name() or user.get_username()


def role_of(user: AbstractUser) -> str | None:
    """OWNER, STAFF or None (in neither group); superusers are Owners."""
    if user.is_superuser:
        return OWNER
    names = set(user.groups.values_list("name", flat=True))
    return OWNER if OWNER in names else STAFF if STAFF in names else None


def last_owner_refusal(*, by: AbstractUser, user: AbstractUser) -> str:
    """Why `user` may not stop being an active Owner ("" if they may)."""
    if not (user.is_active and role_of(user) == OWNER):
        return ""
    if active_owners().exclude(pk=user.pk).exists():
        return ""
    who = "You are" if user.pk == by.pk else f"{name_of(user)} is"
    return (
        f"{who} the last active Owner. Make someone else an Owner first: "
        "without one, nobody could manage the team or the business settings."
    )


def superuser_refusal(*, by: AbstractUser, user: AbstractUser) -> str:
    """Only a superuser changes a superuser's login ("" if allowed)."""
    if user.is_superuser and not by.is_superuser:
        return f"{name_of(user)} is a superuser: only a superuser changes their login."
    return ""


def _lock(user: AbstractUser) -> AbstractUser:
    """Lock the team (the Owner group's row), then the user's row."""
    # NO KEY UPDATE: team changes still wait for each other, while rows that
    # merely point at the group or the user (a membership, a customer they
    # look after) go on.
    Group.objects.select_for_update(no_key=True).get(name=OWNER)
    users = get_user_model()._default_manager
    return users.select_for_update(no_key=True).get(pk=user.pk)


def _refuse(message: str) -> None:
    if message:
        raise ValidationError(message)


def _set_role(user: AbstractUser, role: str) -> None:
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
    other = OWNER if role == STAFF else STAFF
    user.groups.remove(groups[other])
    user.groups.add(groups[role])
    # Owners use the admin (staff logins, a lost phone's device); Staff do not.
    if user.is_staff != (role == OWNER):
        user.is_staff = role == OWNER
        user.save(update_fields=["is_staff"])


def _hand_out(
    user: AbstractUser, *, by: AbstractUser, delivery: str, invited: bool
) -> PasswordHandout:
    """Give `user` a new password (inside the transaction): a one-time one now,
    or an unusable one until the e-mailed link is followed."""
    if delivery == Delivery.PASSWORD:
        password = one_time_password()
        user.set_password(password)
    else:
        # Nothing works but the link; the old password stops now.
        password = None
        user.set_unusable_password()
    user.save(update_fields=["password"])
    # One statement, so one audit row: an insert the first time, then updates.
    done = "invited" if invited else "password_reset"
    TeamMember.objects.update_or_create(
        user=user,
        defaults={
            "must_change_password": password is not None,
            f"{done}_by": by,
            f"{done}_at": timezone.now(),
        },
    )
    return PasswordHandout(user=user, one_time_password=password)


def _after_commit(
    handout: PasswordHandout, *, by: AbstractUser, invited: bool
) -> PasswordHandout:
    if handout.one_time_password is not None:
        return handout
    # Sent here, after the commit, rather than from on_commit: a failure must
    # reach the Owner, who can then send again or hand out a one-time password.
    try:
        send_set_password_email(user=handout.user, by=by, invited=invited)
    except EmailNotSent as error:
        return PasswordHandout(user=handout.user, email_error=str(error) or "failed")
    return handout


def invite_member(
    *,
    by: AbstractUser,
    email: str,
    first_name: str,
    last_name: str = "",
    username: str = "",
    role: str,
    delivery: str,
) -> PasswordHandout:
    """A new login in `role`, with a set-password link or a one-time password.

    The username is the e-mail address unless given. An e-mail address or a
    username someone has already (in any case) is refused beside its field.
    """
    if role not in ROLES:
        raise ValidationError({"role": "Choose Staff or Owner."})
    email = email.strip()
    username = username.strip() or email.lower()
    users = get_user_model()._default_manager
    with transaction.atomic():
        Group.objects.select_for_update(no_key=True).get(name=OWNER)
        taken = {}
        if users.filter(email__iexact=email).exists():
            taken["email"] = "Someone on the team has this e-mail address already."
        if users.filter(username__iexact=username).exists():
            field = "username" if username.lower() != email.lower() else "email"
            taken.setdefault(field, "This username is taken already.")
        if taken:
            raise ValidationError(taken)
        user = users.create_user(
            username=username,
            email=email,
            password=None,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            is_staff=role == OWNER,
        )
        _set_role(user, role)
        handout = _hand_out(user, by=by, delivery=delivery, invited=True)
    return _after_commit(handout, by=by, invited=True)


def change_role(*, by: AbstractUser, user: AbstractUser, role: str) -> AbstractUser:
    """Make `user` Staff or an Owner; the last active Owner stays one."""
    if role not in ROLES:
        raise ValidationError("Choose Staff or Owner.")
    with transaction.atomic():
        user = _lock(user)
        if user.is_superuser:
            raise ValidationError(
                f"{name_of(user)} is a superuser and so always an Owner."
            )
        current = role_of(user)
        if current == role:
            raise ValidationError(f"{name_of(user)} is {role} already.")
        if role == STAFF:
            _refuse(last_owner_refusal(by=by, user=user))
        _set_role(user, role)
    return user


def reset_password(
    *, by: AbstractUser, user: AbstractUser, delivery: str
) -> PasswordHandout:
    """A new password for `user`: the old one stops working and their sessions
    end now; a link by e-mail, or a one-time password to change at login."""
    with transaction.atomic():
        user = _lock(user)
        if user.pk == by.pk:
            raise ValidationError(
                "To change your own password, use Change password in your menu."
            )
        _refuse(superuser_refusal(by=by, user=user))
        if not user.is_active:
            raise ValidationError(f"{name_of(user)} is deactivated: reactivate first.")
        if delivery == Delivery.LINK and not user.email:
            raise ValidationError(
                f"{name_of(user)} has no e-mail address: show a one-time password "
                "instead."
            )
        handout = _hand_out(user, by=by, delivery=delivery, invited=False)
        end_sessions_of(user)
    return _after_commit(handout, by=by, invited=False)


def deactivate_member(*, by: AbstractUser, user: AbstractUser) -> AbstractUser:
    """`user` can no longer log in; every session of theirs ends, and so does
    every API token they made (tokens act with their maker's current state)."""
    with transaction.atomic():
        user = _lock(user)
        if not user.is_active:
            raise ValidationError(f"{name_of(user)} is deactivated already.")
        _refuse(superuser_refusal(by=by, user=user))
        _refuse(last_owner_refusal(by=by, user=user))
        user.is_active = False
        user.save(update_fields=["is_active"])
        end_sessions_of(user)
    return user


def reactivate_member(*, by: AbstractUser, user: AbstractUser) -> AbstractUser:
    """`user` may log in again, in the role they had."""
    with transaction.atomic():
        user = _lock(user)
        if user.is_active:
            raise ValidationError(f"{name_of(user)} can log in already.")
        _refuse(superuser_refusal(by=by, user=user))
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user
