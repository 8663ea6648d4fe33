"""The customer page's timeline entries, built in Python.

As with the list's rows (customer_lists), a template loop over 25 entries cost
more than reading them: each ``{{ entry.item.… }}`` is a lookup chain through
the template engine. Interactions, purchases and feedback are written here;
another app's entries (points, messages) are drawn by the template their
timeline source names, as before.
"""

from collections.abc import Iterable

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.loader import get_template
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe

from customers.models import Customer
from customers.templatetags.customer_lists import escape
from customers.timeline import SOURCES, TimelineEntry

register = template.Library()


def _interaction(item, page_url: str) -> str:
    html = (
        f'<div><span class="badge text-bg-primary">{escape(item.get_kind_display())}'
        f'</span> <small class="text-muted">{escape(item.get_direction_display())}'
        f"</small> <strong>{escape(item.subject)}</strong></div>"
    )
    if item.body:
        html += f'<div class="text-pre-line">{escape(item.body)}</div>'
    return html


def _purchase(item, page_url: str) -> str:
    html = (
        '<div><span class="badge text-bg-success">Purchase</span> '
        f"<strong>{escape(intcomma(item.amount))} {escape(item.currency)}</strong>"
    )
    if item.reference:
        html += f' <small class="text-muted">#{escape(item.reference)}</small>'
    if item.channel:
        html += f' <small class="text-muted">· {escape(item.channel)}</small>'
    if item.refunded_amount:
        html += (
            ' <span class="badge text-bg-warning">refunded '
            f"{escape(localize(item.refunded_amount))}</span>"
        )
    if item.net_amount:
        # customers/urls.py: <pk>/purchases/<purchase_pk>/refund/ under the
        # customer's page; one reverse() per page, not per purchase.
        url = f"{page_url}purchases/{item.pk}/refund/"
        html += f' <a class="small ms-2" href="{escape(url)}">Refund…</a>'
    return html + "</div>"


def _feedback(item, page_url: str) -> str:
    html = (
        f'<div><span class="badge text-bg-info">{escape(item.get_kind_display())}'
        f"</span> <strong>{escape(localize(item.score))}</strong>"
    )
    if item.comment:
        html += f" — {escape(item.comment)}"
    return html + "</div>"


BUILT_IN = {"interaction": _interaction, "purchase": _purchase, "feedback": _feedback}


@register.simple_tag
def timeline_entries(
    entries: Iterable[TimelineEntry], customer: Customer
) -> SafeString:
    """One <div class="timeline-entry"> per entry, newest first; values escaped."""
    html = []
    page_url = customer.get_absolute_url()
    zone = timezone.get_current_timezone()
    for entry in entries:
        kind = escape(entry.kind)
        at = entry.occurred_at
        when = at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""
        if entry.by:
            when += f" · {escape(entry.by)}"
        draw = BUILT_IN.get(entry.kind)
        source = SOURCES.get(entry.kind)
        if draw is not None:
            body = draw(entry.item, page_url)
        elif source is not None and source.draw is not None:
            body = source.draw(entry.item)
        else:
            body = get_template(entry.template).render(
                {"item": entry.item, "customer": customer}
            )
        html.append(
            f'<div class="timeline-entry {kind} mb-3" id="{kind}-{entry.item.pk}">'
            f'<div class="small text-muted">{when}</div>{body}</div>'
        )
    return mark_safe("\n".join(html))  # noqa: S308 - each value escaped above
