"""Who may use the API: the same people as the staff pages."""

from rest_framework.permissions import BasePermission

from customers.roles import is_staff_member


class IsStaffMember(BasePermission):
    """Staff, Owners and superusers; a user in no group is refused (403)."""

    message = "Only members of Staff or Owner may use the API."

    def has_permission(self, request, view) -> bool:
        return is_staff_member(request.user)
