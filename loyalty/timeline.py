"""A member's points entries on the customer's timeline (CRM_TIMELINE_SOURCES)."""

from customers.timeline import TimelineSource

from .models import PointsEntry

POINTS = TimelineSource(
    PointsEntry,
    {"t_kind": "kind", "t_score": "points", "t_body": "reason"},
    template="loyalty/_timeline_points.html",
    name="points",
)
