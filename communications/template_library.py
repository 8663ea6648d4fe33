"""The only tags and filters a message template may use.

Message templates are written by Owners and filled with customers' data, so they
get a template engine of their own: no ``{% load %}`` (no other tag library),
no ``{% include %}``/``{% extends %}`` (no files), no ``{% debug %}`` (which
prints the context and sys.modules), no ``{% url %}``/``{% csrf_token %}``, and
nothing that turns escaping off (``|safe``, ``{% autoescape off %}``), so a
customer's name cannot inject HTML into an email.
"""

from django.template import Library, defaultfilters, defaulttags

ALLOWED_TAGS = (
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "lorem",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
)
FORBIDDEN_FILTERS = {"safe", "safeseq"}

register = Library()
for name in ALLOWED_TAGS:
    register.tags[name] = defaulttags.register.tags[name]
for name, function in defaultfilters.register.filters.items():
    if name not in FORBIDDEN_FILTERS:
        register.filters[name] = function
