from .models import SavedSegment
from .roles import is_owner, is_staff_member


def navigation(request) -> dict:
    """Role flags and the saved segments for the nav bar (segments read lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_owner": is_owner(user),
        "is_staff_member": is_staff_member(user),
        "nav_segments": SavedSegment.objects.only("pk", "name")[:20],
    }
