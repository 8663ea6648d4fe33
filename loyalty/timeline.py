"""Points on the customer's timeline (registered in LoyaltyConfig.ready())."""

from html import escape

from .models import PointsEntry


def draw_points_entry(item: PointsEntry) -> str:
    """One ledger entry as the timeline shows it; every value escaped.

    Written here rather than in a template: a busy member's page holds ten or
    more of them, and a template render each cost more than reading them.
    """
    tone = "text-danger" if item.points < 0 else "text-success"
    html = (
        '<div><span class="badge text-bg-warning">Points</span> '
        f'<strong class="{tone}">{item.points:+d}</strong> '
        f"{escape(str(item.get_kind_display()).lower())}"
    )
    if item.reason:
        html += f' <small class="text-muted">· {escape(item.reason)}</small>'
    return html + "</div>"
