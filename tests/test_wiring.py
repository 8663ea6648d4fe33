"""The CRM_* lists in settings are what the pages show, in their order."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils.module_loading import import_string

from customers.tests.factories import CustomerFactory
from customers.timeline import SOURCES, TimelineSource
from customers.wiring import CustomerPanel, NavItem, PersonalData

pytestmark = pytest.mark.django_db

KINDS = {
    "CRM_NAV_ITEMS": NavItem,
    "CRM_CUSTOMER_PANELS": CustomerPanel,
    "CRM_TIMELINE_SOURCES": TimelineSource,
    "CRM_PERSONAL_DATA": PersonalData,
}


@pytest.mark.parametrize("setting", [*KINDS, "CRM_DEMO_SEEDERS"])
def test_every_listed_entry_imports_as_its_kind(setting):
    paths = getattr(django_settings, setting)
    assert paths and len(set(paths)) == len(paths)
    for path in paths:
        entry = import_string(path)
        if setting in KINDS:
            assert isinstance(entry, KINDS[setting]), path
        else:
            assert callable(entry), path


def test_the_timeline_reads_the_listed_sources_in_order():
    listed = [import_string(p).name for p in django_settings.CRM_TIMELINE_SOURCES]
    assert list(SOURCES) == listed


def nav_positions(content: str, items: list[NavItem]) -> list[int]:
    return [content.index(f'href="{reverse(item.url_name)}"') for item in items]


def listed_nav_items() -> list[NavItem]:
    return [import_string(path) for path in django_settings.CRM_NAV_ITEMS]


def test_the_nav_bar_shows_the_listed_items_in_order(owner_client):
    content = owner_client.get(reverse("customers:list")).content.decode()
    positions = nav_positions(content, listed_nav_items())
    assert positions == sorted(positions)


def test_the_nav_bar_follows_the_list_when_it_changes(owner_client, settings):
    settings.CRM_NAV_ITEMS = list(reversed(settings.CRM_NAV_ITEMS))
    content = owner_client.get(reverse("customers:list")).content.decode()
    positions = nav_positions(content, listed_nav_items())
    assert positions == sorted(positions)


def test_staff_see_only_the_items_not_for_owners(staff_client):
    content = staff_client.get(reverse("customers:list")).content.decode()
    for item in listed_nav_items():
        shown = f'href="{reverse(item.url_name)}"' in content
        assert shown is not item.owner_only, item


def first_panel(request, customer) -> dict:
    return {"label": "first"}


def second_panel(request, customer) -> dict:
    return {"label": "second"}


FIRST = CustomerPanel("wiring_test/_panel.html", first_panel)
SECOND = CustomerPanel("wiring_test/_panel.html", second_panel)


@pytest.fixture
def test_templates(settings):
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "DIRS": [
                *settings.TEMPLATES[0]["DIRS"],
                Path(__file__).parent / "templates",
            ],
        }
    ]


def test_the_customer_page_shows_the_listed_panels_in_order(
    staff_client, settings, test_templates
):
    customer = CustomerFactory(first_name="Panelled")
    settings.CRM_CUSTOMER_PANELS = [
        "tests.test_wiring.SECOND",
        *settings.CRM_CUSTOMER_PANELS,
        "tests.test_wiring.FIRST",
    ]
    content = staff_client.get(customer.get_absolute_url()).content.decode()
    positions = [
        content.index('id="test-panel-second"'),
        content.index('id="loyalty"'),
        content.index('id="test-panel-first"'),
    ]
    assert positions == sorted(positions)
