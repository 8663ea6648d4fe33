from django.utils import timezone

from .models import FollowUp, SavedSegment
from .roles import is_owner, is_staff_member
from .wiring import nav_items


def navigation(request) -> dict:
    """Role flags, saved segments and the due follow-up count for the nav bar."""
    user = getattr(request, "user", None)
    if user is None or not is_staff_member(user):
        return {}
    owner = is_owner(user)
    return {
        "is_owner": owner,
        "nav_extra": nav_items(owner=owner),
        "is_staff_member": True,
        # Callables: a page that does not draw the nav bar reads neither.
        "nav_segments": lambda: list(SavedSegment.objects.only("pk", "name")[:20]),
        "nav_follow_ups_due": lambda: (
            FollowUp.objects.open()
            .assigned_to(user.pk)
            .due_by(timezone.localdate())
            .count()
        ),
    }
