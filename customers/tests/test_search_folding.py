"""Search folds every Latin letter (and other scripts) to ASCII, on PostgreSQL
here and on SQLite through tests/sqlite.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers import services
from customers.models import Customer, normalize_for_search
from tests.sqlite import assert_passed, run_on_sqlite

pytestmark = pytest.mark.django_db

NAMES = [
    ("Łukasz", "Wróbel", "lukasz"),
    ("Søren", "Kierkegaard", "soren"),
    ("Guðrún", "Þórsdóttir", "thorsdottir"),
    ("Æble", "Ørsted", "aeble"),
    ("Zoë", "Straße", "strasse"),
    ("Đorđe", "Čolić", "dorde colic"),
]


@pytest.mark.parametrize(("first", "last", "query"), NAMES)
def test_an_ascii_query_finds_the_name_however_it_is_spelt(first, last, query):
    wanted = services.create_customer(first_name=first, last_name=last)
    services.create_customer(first_name="Someone", last_name="Else")
    assert list(Customer.objects.search(query)) == [wanted]
    # And the name typed as written finds it too.
    assert list(Customer.objects.search(f"{first} {last}")) == [wanted]


def test_the_stored_search_text_is_rebuilt_by_the_migration_rule():
    customer = services.create_customer(first_name="Łukasz", last_name="Øye")
    Customer.objects.filter(pk=customer.pk).update(search_text="łukasz øye")
    from importlib import import_module

    from django.apps import apps

    migration = import_module("customers.migrations.0011_search_text_transliterated")
    migration.transliterate(apps, None)
    customer.refresh_from_db()
    assert customer.search_text == customer.build_search_text() == "lukasz oye"


@given(st.text(max_size=40))
def test_folded_text_is_ascii_lower_case_and_stable(text):
    folded = normalize_for_search(text)
    assert folded.isascii()
    assert folded == folded.casefold()
    assert normalize_for_search(folded) == folded


def test_search_folds_on_sqlite_too(tmp_path):
    assert_passed(
        run_on_sqlite(
            tmp_path,
            "customers/tests/test_search_folding.py::"
            "test_an_ascii_query_finds_the_name_however_it_is_spelt",
        )
    )
