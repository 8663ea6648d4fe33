"""The birthday rule, once: whose birthday a day is, 29 February included."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers.birthdays import birthday_on, celebrated_on
from customers.models import Customer
from customers.tests.factories import CustomerFactory


def celebration_in(year: int, born: date) -> date:
    """Independently: the birthday's date that year, or the 28th if it has none."""
    try:
        return born.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


@given(
    day=st.dates(date(1901, 1, 1), date(2099, 12, 31)),
    born=st.dates(date(1904, 1, 1), date(2024, 12, 31)),
)
def test_a_birthday_is_celebrated_on_exactly_one_day_a_year(day, born):
    expected = celebration_in(day.year, born) == day
    assert ((born.month, born.day) in celebrated_on(day)) is expected


@pytest.mark.django_db
def test_the_filter_finds_those_the_rule_names():
    leapling = CustomerFactory(birthday=date(2000, 2, 29))
    on_28th = CustomerFactory(birthday=date(1990, 2, 28))
    march = CustomerFactory(birthday=date(1990, 3, 1))
    CustomerFactory(birthday=None)

    def found(day: date) -> set[int]:
        return set(
            Customer.objects.filter(birthday_on(day)).values_list("pk", flat=True)
        )

    assert found(date(2023, 2, 28)) == {leapling.pk, on_28th.pk}
    assert found(date(2024, 2, 28)) == {on_28th.pk}
    assert found(date(2024, 2, 29)) == {leapling.pk}
    assert found(date(2023, 3, 1)) == {march.pk}
