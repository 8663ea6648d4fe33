"""The customer list's rows and filter fields, built in Python.

Like the admin's change list (django.contrib.admin.templatetags.admin_list), the
rows are formatted here rather than in a template loop: at 50 rows a page the
template engine's per-variable cost is larger than the page's queries.
"""

import html
from collections.abc import Iterable
from datetime import datetime, tzinfo

from django import forms, template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from customers.models import ListedCustomer

register = template.Library()


def escape(value: object) -> str:
    """What django.utils.html.escape gives, without its lazy-string wrapper:
    these tags call it hundreds of times a page."""
    return html.escape(str(value))


def _day(value: datetime | None, zone: tzinfo, empty: str = "never") -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d") if value else empty


def _tags(names: Iterable[str]) -> str:
    return "".join(
        f'<span class="badge text-bg-secondary me-1">{escape(name)}</span>'
        for name in names
    )


@register.simple_tag
def customer_rows(customers: Iterable[ListedCustomer], url_prefix: str) -> SafeString:
    """One <tr> per customer; every value escaped."""
    rows = []
    zone = timezone.get_current_timezone()
    prefix = escape(url_prefix)
    for c in customers:
        cells = (
            f'<td><a href="{prefix}{c.pk}/">{escape(c.full_name)}</a></td>'
            f"<td>{escape(c.email)}</td>"
            f"<td>{escape(c.phone)}</td>"
            f"<td>{_tags(getattr(c, 'tag_names', ()))}</td>"
            f"<td>{escape(c.owner_username) if c.owner_id else ''}</td>"
            f'<td class="text-end">{c.orders_count}</td>'
            f'<td class="text-end">{c.total_spent}</td>'
            f"<td>{_day(c.last_purchase_at, zone)}</td>"
            f"<td>{_day(c.last_contact_at, zone)}</td>"
            f"<td>{_day(c.created_at, zone, '')}</td>"
        )
        rows.append(f"<tr>{cells}</tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 - each value escaped above


# The filter form's columns in the Bootstrap grid, by field (else col-md-1).
FILTER_COLUMNS = {"q": "col-md-3", "tag": "col-md-2", "sort": "col-md-2"}


def _filter_input(field: forms.BoundField, id_: str, invalid: str) -> str:
    value = field.value()
    current = "" if value is None else str(value)
    name = escape(field.html_name)
    if field.widget_type == "select":
        options = "".join(
            f'<option value="{escape(choice)}"'
            f"{' selected' if str(choice) == current else ''}>{escape(label)}</option>"
            for choice, label in field.field.choices
        )
        return (
            f'<select name="{name}" id="{id_}" class="form-select form-select-sm'
            f'{invalid}">{options}</select>'
        )
    if field.name == "q":
        kind, extra = "search", ' placeholder="Name, email or phone"'
    else:
        kind, extra = "number", ' min="1" max="3650"'
    return (
        f'<input type="{kind}" name="{name}" id="{id_}" value="{escape(current)}" '
        f'class="form-control form-control-sm{invalid}"{extra}>'
    )


@register.simple_tag
def filter_fields(form: forms.BaseForm) -> SafeString:
    """The list's filter fields, each a labelled grid column with its errors.

    Written out here rather than through crispy or a template loop over the
    options: the form is on every list page, and rendering it through templates
    cost more than the list's queries.
    """
    html = []
    for field in form:
        id_ = escape(field.id_for_label)
        invalid = " is-invalid" if field.errors else ""
        errors = "".join(
            f'<div class="invalid-feedback d-block">{escape(error)}</div>'
            for error in field.errors
        )
        html.append(
            f'<div class="{FILTER_COLUMNS.get(field.name, "col-md-1")}">'
            f'<label class="form-label small mb-1" for="{id_}">{escape(field.label)}'
            f"</label>{_filter_input(field, id_, invalid)}{errors}</div>"
        )
    return mark_safe("\n".join(html))  # noqa: S308 - each value escaped above
