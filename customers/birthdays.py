"""Whose birthday a day is: the one rule, for bonuses, messages and forecasts.

Those born on 29 February celebrate on the 28th in years without a 29th.
"""

from __future__ import annotations

import calendar
from datetime import date

from django.db.models import Q


def celebrated_on(day: date) -> list[tuple[int, int]]:
    """The (month, day) birthdays celebrated on `day`."""
    birthdays = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        birthdays.append((2, 29))
    return birthdays


def birthday_on(day: date, field: str = "birthday") -> Q:
    """A filter on `field` (a date of birth) for those celebrating on `day`."""
    condition = Q()
    for month, day_of_month in celebrated_on(day):
        condition |= Q(**{f"{field}__month": month, f"{field}__day": day_of_month})
    return condition
