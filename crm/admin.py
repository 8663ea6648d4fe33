"""The admin's user pages, for Owners who are not superusers.

The Owner group may view, add and change logins in the admin (the team page is
the everyday place). Without these limits, an Owner could make themselves a
superuser there, grant single permissions past their group's, or take over a
superuser's login by setting its password.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

User = get_user_model()


class TeamUserAdmin(UserAdmin):
    # Only a superuser hands out these.
    SUPERUSER_ONLY = ("is_superuser", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return fields + self.SUPERUSER_ONLY

    def has_change_permission(self, request, obj=None) -> bool:
        # The password page asks this too: a superuser's login is a superuser's.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


admin.site.unregister(User)
admin.site.register(User, TeamUserAdmin)
