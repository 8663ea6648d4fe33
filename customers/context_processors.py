from datetime import date

from django.utils import timezone

from .baked import BakedQuery
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
        "nav_segments": NAV_SEGMENTS.instances,
        "nav_follow_ups_due": lambda: follow_ups_due(timezone.localdate()).count(
            user.pk
        ),
    }


NAV_SEGMENTS = BakedQuery(
    lambda: SavedSegment.objects.only("pk", "name")[:20], "nav-segments", keyed=False
)


def follow_ups_due(day: date) -> BakedQuery:
    """A user's open follow-ups due by `day`, for the badge on every page."""
    return BakedQuery(
        lambda user_id: (
            FollowUp.objects.open().assigned_to(user_id).due_by(day).values_list("pk")
        ),
        ("nav-follow-ups-due", day),
    )
