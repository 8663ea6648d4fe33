"""TeamMember: a login's team bookkeeping, and the team list's query."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.roles import OWNER, STAFF


class TeamMember(models.Model):
    """One per login made or reset on the team page (others have none until then).

    Audited (crm/audit/tables.py): a password reset changes only the password
    hash on auth_user, which the trail never records, so the reset is on record
    here, with who did it and when.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team"
    )
    must_change_password = models.BooleanField(
        default=False,
        help_text="Logged in with a one-time password: no other page opens until "
        "a new password is chosen.",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    password_reset_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    password_reset_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "team member"

    def __str__(self) -> str:
        return str(self.user)


def owners_q(prefix: str = "") -> Q:
    """Users who are Owners: superusers and members of the Owner group."""
    return Q(**{f"{prefix}is_superuser": True}) | Q(**{f"{prefix}groups__name": OWNER})


def active_owners() -> QuerySet:
    """Every active Owner (superusers count), each once."""
    return (
        get_user_model()._default_manager.filter(owners_q(), is_active=True).distinct()
    )


def team_list(search: str = "") -> QuerySet:
    """Every login with its role and whether two-factor login is on, active
    ones first; `search` matches name, username and e-mail."""
    in_owner_group = Group.objects.filter(name=OWNER, user=OuterRef("pk"))
    users = get_user_model()._default_manager.annotate(
        in_owner_group=Exists(in_owner_group),
        two_factor_on=Exists(
            TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        ),
        in_staff_group=Exists(Group.objects.filter(name=STAFF, user=OuterRef("pk"))),
    )
    for word in search.split():
        users = users.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    return users.order_by("-is_active", "username")
