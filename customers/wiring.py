"""What the other apps add to the customers' pages and commands, read from settings.

customers imports none of the other apps, yet its nav bar, customer page,
timeline, data download and ``seed_demo`` show theirs. Each such link is one
entry of a list in crm/settings.py (the ``CRM_*`` block), the dotted path of an
object declared in the app that owns it, loaded with ``import_string`` as Django
loads its context processors. The list's order is the order shown (or run).

- ``CRM_NAV_ITEMS``: NavItem, a link in the top bar;
- ``CRM_CUSTOMER_PANELS``: CustomerPanel, a card in the customer page's side
  column, drawn by its template from its context function
  ``(request, customer) -> dict``;
- ``CRM_TIMELINE_SOURCES``: customers.timeline.TimelineSource, a model whose
  rows join the customer's timeline (read by customers.timeline);
- ``CRM_PERSONAL_DATA``: PersonalData, what an app holds about a customer, for
  the data-rights download (``export(customer) -> JSON-ready value``) and for
  erasure (``erase(customer) -> None``: wipe personal and free text, keep
  amounts and dates), run inside the erasure's transaction after the customer
  row is locked;
- ``CRM_DEMO_SEEDERS``: functions ``seed(seed: int) -> str`` that ``seed_demo``
  runs after the customers and their history exist, each returning a line for
  the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    owner_only: bool = False


@dataclass(frozen=True)
class CustomerPanel:
    template: str
    context: Callable[[HttpRequest, Any], dict]


@dataclass(frozen=True)
class PersonalData:
    name: str  # the key of this app's rows in the download
    export: Callable[[Any], Any]
    erase: Callable[[Any], None]


@cache
def declared(setting: str) -> tuple[Any, ...]:
    """The objects a ``CRM_*`` setting lists, imported once, in its order."""
    return tuple(import_string(path) for path in getattr(settings, setting))


@receiver(setting_changed)
def _forget_declared(*, setting: str, **kwargs) -> None:
    # Tests override a list with override_settings; the next read sees it.
    if setting.startswith("CRM_"):
        declared.cache_clear()


def nav_items(*, owner: bool) -> list[NavItem]:
    """The top bar's links for a user (Owners see every one)."""
    return [item for item in declared("CRM_NAV_ITEMS") if owner or not item.owner_only]


def panels_for(request: HttpRequest, customer) -> list[dict]:
    """Each customer panel's template and context, in the listed order."""
    return [
        {"template": panel.template, **panel.context(request, customer)}
        for panel in declared("CRM_CUSTOMER_PANELS")
    ]


def personal_data() -> tuple[PersonalData, ...]:
    return declared("CRM_PERSONAL_DATA")


def run_demo_seeders(seed: int) -> list[str]:
    """Run the other apps' demo seeders in the listed order; their summaries."""
    return [run(seed) for run in declared("CRM_DEMO_SEEDERS")]
