"""``{% blank_form form %}``: crispy's rendering of an empty form, kept per process.

The customer page shows three empty forms (log an interaction, record a purchase,
record feedback) and the loyalty card a fourth. crispy builds them field by field
through a dozen templates each: about a third of the page's time, for HTML that
is the same on every view. An unbound form's HTML depends only on its class,
prefix, initial values and the choices of its choice fields, so that is the key;
the choices are read fresh on every view (a new staff user or reward shows at
once), only the rendering is skipped. A bound form (one with errors) is always
rendered afresh.

What is kept is crispy's output as its templates rendered it (a SafeString that
Django escaped while rendering), so the tag hands it back as it is: no
mark_safe here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from crispy_forms.utils import render_crispy_form
from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()

MAX_ENTRIES = 256
_rendered: OrderedDict[Hashable, SafeString] = OrderedDict()
_lock = threading.Lock()


def form_key(form: forms.BaseForm) -> Hashable:
    """Everything an unbound form's HTML depends on.

    The crispy helper is not in the key: the forms build it in ``__init__`` from
    their class alone (CrispyMixin), so the class stands for it.
    """
    fields = []
    for name, field in form.fields.items():
        choices = getattr(field, "choices", None)
        fields.append(
            (
                name,
                repr(form.get_initial_for_field(field, name)),
                tuple((str(value), str(label)) for value, label in choices)
                if choices is not None
                else None,
            )
        )
    return (
        type(form).__module__,
        type(form).__qualname__,
        form.prefix,
        form.auto_id,
        tuple(fields),
    )


def render_blank_form(form: forms.BaseForm) -> SafeString:
    if form.is_bound:
        return render_crispy_form(form)
    key = form_key(form)
    with _lock:
        html = _rendered.get(key)
        if html is not None:
            _rendered.move_to_end(key)
            return html
    html = render_crispy_form(form)
    with _lock:
        _rendered[key] = html
        while len(_rendered) > MAX_ENTRIES:
            _rendered.popitem(last=False)
    return html


def clear() -> None:
    with _lock:
        _rendered.clear()


@register.simple_tag
def blank_form(form: forms.BaseForm) -> SafeString:
    """The form as ``{% crispy form %}`` renders it (the <form> tag is the page's)."""
    return render_blank_form(form)
