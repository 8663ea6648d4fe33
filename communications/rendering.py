"""Rendering message templates safely, and checking them when they are saved.

A template sees only plain values (strings, numbers, dates), never a model
instance: given a Customer it could walk to ``customer.owner.password``. The
engine is Django's, with the tag and filter set of ``template_library`` and no
loaders, context processors or installed tag libraries.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import FilterExpression, Lexer, Node, TokenType, Variable
from django.template.defaulttags import TemplateLiteral
from django.utils import timezone

from . import template_library

# The variables a template may use, with what they hold.
VARIABLES: dict[str, str] = {
    "first_name": "the customer's first name",
    "last_name": "the customer's last name",
    "tier": "the loyalty tier's name (empty for non-members)",
    "points_balance": "the points balance (0 for non-members)",
    "points_expiring": "points that expire soon (0 if none)",
    "points_expire_on": "when they expire (a date, or empty)",
    "last_purchase_date": "the date of the last purchase (or empty)",
    "business_name": "the business's name",
    "unsubscribe_url": "the link that unsubscribes the customer",
}
# Names the template's own tags define, usable inside them.
TAG_NAMES = {"forloop", "block"}
END_TAGS = {
    "else",
    "elif",
    "empty",
    "endcomment",
    "endfilter",
    "endfor",
    "endif",
    "endifchanged",
    "endspaceless",
    "endverbatim",
    "endwith",
}


def _engine(*, autoescape: bool) -> Engine:
    engine = Engine(loaders=[], debug=False, autoescape=autoescape)
    # Engine() always adds Django's default libraries; replace them outright.
    engine.template_builtins = [template_library.register]
    engine.template_libraries = {}
    return engine


TEXT_ENGINE = _engine(autoescape=False)
HTML_ENGINE = _engine(autoescape=True)


def sample_context() -> dict[str, Any]:
    """Example values, for previews without a customer and for checking."""
    today = timezone.localdate()
    return {
        "first_name": "Ana",
        "last_name": "Example",
        "tier": "Gold",
        "points_balance": 1250,
        "points_expiring": 200,
        "points_expire_on": today + timedelta(days=10),
        "last_purchase_date": today - timedelta(days=12),
        "business_name": settings.BUSINESS_NAME,
        "unsubscribe_url": f"{site_url()}/unsubscribe/example/",
    }


def empty_context() -> dict[str, Any]:
    """A customer with nothing: no purchases, no membership."""
    return {
        **dict.fromkeys(VARIABLES, ""),
        "points_balance": 0,
        "points_expiring": 0,
        "points_expire_on": None,
        "last_purchase_date": None,
        "business_name": settings.BUSINESS_NAME,
        "unsubscribe_url": f"{site_url()}/unsubscribe/example/",
    }


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def _plain(value: Any) -> Any:
    """Only strings, numbers, dates and None reach a template."""
    if value is None or isinstance(value, str | int | float | date):
        return value
    if isinstance(value, bool):
        return value
    return str(value)


@functools.lru_cache(maxsize=256)
def compiled(source: str, html: bool) -> Template:
    """Compiled once per text: a worker renders the same few templates all day."""
    return Template(source, engine=HTML_ENGINE if html else TEXT_ENGINE)


def render_source(source: str, context: Mapping[str, Any], *, html: bool) -> str:
    """Render one template text against plain values."""
    template = compiled(source, html)
    values = {name: _plain(context.get(name)) for name in VARIABLES}
    rendered = template.render(Context(values, autoescape=html))
    # Markup for the recipient's mail client, but text to this site's pages:
    # a plain str, not the SafeString render() returns, so a page that shows
    # it (a preview) escapes it like any other text.
    return str.__str__(rendered)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body_text: str
    body_html: str


def render_message(template, context: Mapping[str, Any]) -> RenderedMessage:
    """A MessageTemplate filled in; the subject on one line."""
    subject = render_source(template.subject, context, html=False)
    return RenderedMessage(
        subject=" ".join(subject.split())[:255],
        body_text=render_source(template.body_text, context, html=False).strip(),
        body_html=(
            render_source(template.body_html, context, html=True)
            if template.body_html
            else ""
        ),
    )


# Checking a template when it is saved.


def _token_problems(source: str) -> list[str]:
    allowed = set(template_library.ALLOWED_TAGS) | END_TAGS
    problems = []
    in_verbatim = False
    for token in Lexer(source).tokenize():
        unclosed = "{{" in token.contents or "{%" in token.contents
        if token.token_type == TokenType.TEXT and unclosed and not in_verbatim:
            problems.append(
                f"Line {token.lineno}: a {{{{ or {{% is not closed on the same line."
            )
        if token.token_type != TokenType.BLOCK:
            continue
        name = token.contents.split()[0] if token.contents.split() else ""
        if name == "endverbatim":
            in_verbatim = False
        if in_verbatim:
            continue
        if name == "verbatim":
            in_verbatim = True
        if name not in allowed:
            problems.append(
                f"Line {token.lineno}: the tag {{% {name} %}} is not allowed in "
                "message templates."
            )
    return problems


def _expressions(value: Any, depth: int = 0) -> Iterable[FilterExpression]:
    """Every FilterExpression inside a node attribute (conditions, lists, …)."""
    if depth > 6:
        return
    if isinstance(value, FilterExpression):
        yield value
    elif isinstance(value, TemplateLiteral):
        yield value.value
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _expressions(item, depth + 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _expressions(item, depth + 1)
    elif hasattr(value, "first") and hasattr(value, "second"):
        # An {% if %} operator: its operands are TemplateLiterals or operators.
        yield from _expressions(value.first, depth + 1)
        yield from _expressions(value.second, depth + 1)


def _variables(expression: FilterExpression) -> Iterable[str]:
    parts = [expression.var] + [
        arg for _, args in expression.filters for lookup, arg in args if lookup
    ]
    for part in parts:
        if isinstance(part, Variable) and part.lookups:
            yield part.lookups[0]


def _walk(nodes: Iterable[Node]) -> Iterable[Node]:
    for node in nodes:
        yield node
        for attribute in node.child_nodelists:
            yield from _walk(getattr(node, attribute, None) or [])
        if hasattr(node, "conditions_nodelists"):
            for _, nodelist in node.conditions_nodelists:
                yield from _walk(nodelist)


def _defined_names(node: Node) -> set[str]:
    """Names a tag itself defines: loop variables, {% with %}, `as` targets."""
    names = set(getattr(node, "loopvars", []) or [])
    if type(node).__name__ == "FilterNode":
        names.add("var")  # {% filter %} applies its filters to a variable "var"
    names |= set((getattr(node, "extra_context", None) or {}).keys())
    for attribute in ("var_name", "variable_name", "asvar"):
        value = getattr(node, attribute, None)
        if isinstance(value, str):
            names.add(value)
    return names


def unknown_variables(template: Template) -> list[str]:
    nodes = list(_walk(template.nodelist))
    known = set(VARIABLES) | TAG_NAMES
    for node in nodes:
        known |= _defined_names(node)
    unknown: list[str] = []
    for node in nodes:
        for value in vars(node).values():
            for expression in _expressions(value):
                for name in _variables(expression):
                    if name not in known and name not in unknown:
                        unknown.append(name)
    return unknown


def check_source(source: str, *, html: bool) -> list[str]:
    """What is wrong with one template text, as messages for the form."""
    if not source:
        return []
    problems = _token_problems(source)
    if problems:
        return problems
    engine = HTML_ENGINE if html else TEXT_ENGINE
    try:
        template = Template(source, engine=engine)
    except TemplateSyntaxError as error:
        return [f"Template syntax error: {error}"]
    unknown = unknown_variables(template)
    if unknown:
        names = ", ".join(f"{{{{ {name} }}}}" for name in unknown)
        known = ", ".join(VARIABLES)
        return [f"Unknown variable {names}. Use one of: {known}."]
    for context in (sample_context(), empty_context()):
        try:
            render_source(source, context, html=html)
        except Exception as error:  # noqa: BLE001 - any failure is the author's
            return [f"The template fails when rendered: {error}"]
    return []


def validate_message_template(
    *, channel: str, subject: str, body_text: str, body_html: str
) -> None:
    """Raise a ValidationError naming each field's problems (MessageTemplate.clean)."""
    errors: dict[str, list[str]] = {}
    if channel == "email" and not subject.strip():
        errors["subject"] = ["An email needs a subject."]
    if channel == "sms" and (subject.strip() or body_html.strip()):
        errors["body_html" if body_html.strip() else "subject"] = [
            "An SMS has only a text; leave the subject and HTML empty."
        ]
    if not body_text.strip():
        errors["body_text"] = ["Write the message's text."]
    for field, source, html in (
        ("subject", subject, False),
        ("body_text", body_text, False),
        ("body_html", body_html, True),
    ):
        problems = check_source(source, html=html)
        if problems:
            errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationError(errors)
