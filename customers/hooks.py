"""Places where other apps (loyalty, communications) extend the customer pages.

customers imports neither app. Each registers here from its AppConfig.ready():

- a *panel*: a card in the customer page's side column, drawn from a template
  with a context function ``(request, customer) -> dict``;
- a *timeline source*: a model whose rows join the customer's timeline, each
  entry drawn by the template it names (see
  customers.timeline.register_timeline_source);
- a *nav item*: a link in the top bar, for Staff or for Owners only;
- a *demo seeder*: ``seed(seed: int) -> str`` run by ``seed_demo`` after the
  customers and their history exist (loyalty members, outreach rules), returning
  a line for the summary;
- *personal data*: what the app holds about a customer, for the data-rights
  download (``export(customer) -> JSON-ready value``) and for erasure
  (``erase(customer) -> None``: wipe personal and free text in its rows, keep
  amounts and dates);
- an *actor context*: ``factory(user, *, origin) -> context manager`` that
  attributes every change made inside it to ``user`` (None: the system) and
  names where it came from, for the audit trail. Imports (a Celery job, the
  import commands) use it through ``acting_as``; without one registered it does
  nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class CustomerPanel:
    name: str
    template: str
    context: Callable[[HttpRequest, Any], dict]
    order: int = 100


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    owner_only: bool = False
    order: int = 100


@dataclass(frozen=True)
class PersonalData:
    name: str
    export: Callable[[Any], Any]
    erase: Callable[[Any], None]


customer_panels: dict[str, CustomerPanel] = {}
nav_items: dict[str, NavItem] = {}
personal_data: dict[str, PersonalData] = {}
demo_seeders: dict[str, tuple[int, Callable[[int], str]]] = {}
actor_contexts: dict[str, Callable[..., AbstractContextManager]] = {}


def register_customer_panel(
    name: str,
    template: str,
    context: Callable[[HttpRequest, Any], dict],
    *,
    order: int = 100,
) -> None:
    """Add (or replace, by name) a card on the customer page."""
    customer_panels[name] = CustomerPanel(name, template, context, order)


def register_nav_item(
    label: str, url_name: str, *, owner_only: bool = False, order: int = 100
) -> None:
    """Add (or replace, by URL name) a link in the top navigation bar."""
    nav_items[url_name] = NavItem(label, url_name, owner_only, order)


def panels_for(request: HttpRequest, customer) -> list[dict]:
    """Each registered panel's template and context, in order."""
    return [
        {"template": panel.template, **panel.context(request, customer)}
        for panel in sorted(customer_panels.values(), key=lambda p: p.order)
    ]


def register_personal_data(
    name: str, export: Callable[[Any], Any], erase: Callable[[Any], None]
) -> None:
    """Include an app's rows in a customer's data download and in erasure.

    ``export`` returns a JSON-ready value placed under ``name`` in the download;
    ``erase`` runs inside the erasure's transaction, after the customer row is
    locked.
    """
    personal_data[name] = PersonalData(name, export, erase)


def register_demo_seeder(
    name: str, seed: Callable[[int], str], *, order: int = 100
) -> None:
    """Let ``seed_demo`` fill another app's demo data after the customers'."""
    demo_seeders[name] = (order, seed)


def run_demo_seeders(seed: int) -> list[str]:
    return [
        run(seed)
        for _, run in sorted(demo_seeders.values(), key=lambda entry: entry[0])
    ]


def register_actor_context(factory: Callable[..., AbstractContextManager]) -> None:
    """Name the context manager that tells the audit trail who is acting.

    ``factory(user, origin=...)`` is called for each block of work; the last
    registration wins (there is one audit trail).
    """
    actor_contexts["default"] = factory


def acting_as(user, *, origin: str) -> AbstractContextManager:
    """Attribute the changes made inside the block to ``user`` (None: the system)."""
    factory = actor_contexts.get("default")
    return nullcontext() if factory is None else factory(user, origin=origin)
