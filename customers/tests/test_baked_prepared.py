"""On PostgreSQL a baked query is prepared on the server (the suite's database)."""

import pytest
from django.db import connection

from customers.baked import BakedQuery
from customers.models import Interaction

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def subjects_of(customer_id: int):
    return Interaction.objects.filter(customer_id=customer_id).values_list("subject")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_a_baked_query_is_prepared_once_and_counted_as_a_query(
    django_assert_num_queries,
):
    customer = CustomerFactory()
    Interaction.objects.create(customer=customer, subject="Hello")
    baked = BakedQuery(subjects_of, "test-prepared")
    with django_assert_num_queries(1):
        assert baked.rows(customer.pk) == [("Hello",)]
    assert baked.rows(CustomerFactory().pk) == []
    mine = [s for s in prepared_statements() if "customers_interaction" in s]
    assert len(mine) == 1
    assert "$1" in mine[0]


def test_nothing_is_prepared_when_the_setting_is_off(settings):
    settings.PREPARE_BAKED_QUERIES = False
    customer = CustomerFactory()
    baked = BakedQuery(subjects_of, "test-unprepared")
    assert baked.rows(customer.pk) == []
    assert not [s for s in prepared_statements() if "customers_interaction" in s]
