"""The two roles, as Django groups made by a data migration.

Staff browse and update customers; Owners also run the business side (dashboard,
loyalty program, outreach rules, imports). Superusers count as Owners.
"""

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.contrib.auth.models import Group

STAFF = "Staff"
OWNER = "Owner"


def _groups(user) -> set[str]:
    # Cached on the user object: templates and views ask several times a request.
    if not hasattr(user, "_crm_groups"):
        names = Group.objects.filter(user__id=user.pk).values_list("name", flat=True)
        remember_groups(user, set(names))
    return user._crm_groups


def remember_groups(user, names: set[str]) -> None:
    """The user's group names, when they are known already."""
    user._crm_groups = names


def is_owner(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or OWNER in _groups(user))
    )


def is_staff_member(user) -> bool:
    """Anyone who may use the CRM: Staff, Owners and superusers."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or _groups(user) & {STAFF, OWNER})
    )


class StaffRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Logged in and in the Staff or Owner group; others get 403."""

    def test_func(self) -> bool:
        return is_staff_member(self.request.user)


class OwnerRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Logged in and an Owner; Staff get 403."""

    def test_func(self) -> bool:
        return is_owner(self.request.user)
