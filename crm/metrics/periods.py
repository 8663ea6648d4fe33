"""Periods, dates and the business time zone.

A period is a run of whole calendar days in the business time zone
(``settings.TIME_ZONE``), ``first`` to ``last`` inclusive. Figures "at" a date
mean at the end of that day; a period's retention runs from the end of the day
before ``first`` to the end of ``last`` — the (start, end] of the definitions.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date


class MetricsInputError(ValueError):
    """A date or period the metrics cannot answer for; the message says why.

    ``field`` names the input it is about (as_of, start, end), when one is.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PeriodKind:
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"

    CHOICES = [
        (MONTH, "Month"),
        (QUARTER, "Quarter"),
        (YEAR, "Year"),
        (CUSTOM, "Custom dates"),
    ]
    MONTHS = {MONTH: 1, QUARTER: 3, YEAR: 12}


def business_today() -> date:
    return timezone.localdate()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of the day, in the business time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def end_of_day(day: date) -> datetime:
    """The first moment after the day: data "up to the end of the day" is < this."""
    return start_of_day(day + timedelta(days=1))


def parse_day(value: str | date | None, *, name: str) -> date | None:
    """A YYYY-MM-DD date, or None when empty; MetricsInputError when malformed."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = parse_date(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise MetricsInputError(
            f"{name}: {value!r} is not a date (use YYYY-MM-DD).", field=name
        )
    return parsed


def _add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clipped to the month's end."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _period_start(kind: str, day: date) -> date:
    if kind == PeriodKind.MONTH:
        return day.replace(day=1)
    if kind == PeriodKind.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


@dataclass(frozen=True)
class Period:
    """Whole days ``first`` to ``last`` inclusive, of a kind (month, ..., custom)."""

    first: date
    last: date
    kind: str = PeriodKind.CUSTOM

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise MetricsInputError(
                f"The end ({self.last}) is before the start ({self.first})."
            )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start_boundary(self) -> date:
        """The day at whose end the period starts: S is counted there."""
        return self.first - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH and self.first.day == 1:
            text = self.first.strftime("%B %Y")
        elif self.kind == PeriodKind.QUARTER:
            text = f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"
        elif self.kind == PeriodKind.YEAR:
            text = str(self.first.year)
        else:
            return f"{self.first:%d %b %Y} – {self.last:%d %b %Y}"
        full_end = _add_months(self.first, PeriodKind.MONTHS[self.kind]) - timedelta(
            days=1
        )
        return text if self.last == full_end else f"{text} to {self.last:%d %b}"

    @property
    def short_label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return self.first.strftime("%b %Y")
        if self.kind in (PeriodKind.QUARTER, PeriodKind.YEAR):
            return self.label.split(" to ")[0]
        return f"{self.first:%d %b} – {self.last:%d %b %Y}"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "start": self.first.isoformat(),
            "end": self.last.isoformat(),
            "label": self.label,
        }

    def previous(self) -> Period:
        """The period before, cut to the same length into it (like for like).

        March 1–15 is compared with February 1–15; a whole month with the whole
        month before; a custom period with as many days just before it.
        """
        if self.kind in PeriodKind.MONTHS:
            months = PeriodKind.MONTHS[self.kind]
            first = _add_months(self.first, -months)
            whole_end = self.first - timedelta(days=1)
            if self.last == _add_months(self.first, months) - timedelta(days=1):
                last = whole_end
            else:
                last = min(_add_months(self.last, -months), whole_end)
            return Period(first, last, self.kind)
        last = self.first - timedelta(days=1)
        return Period(last - timedelta(days=self.days - 1), last, self.kind)

    def trailing(self, count: int) -> list[Period]:
        """This period and the ``count - 1`` whole periods before it, oldest first.

        For calendar kinds the earlier ones are whole months (quarters, years);
        for a custom period, runs of the same length.
        """
        periods = [self]
        for _ in range(count - 1):
            earlier = periods[-1]
            if earlier.kind in PeriodKind.MONTHS:
                months = PeriodKind.MONTHS[earlier.kind]
                first = _add_months(earlier.first, -months)
                earlier = Period(first, earlier.first - timedelta(days=1), earlier.kind)
            else:
                earlier = earlier.previous()
            periods.append(earlier)
        return list(reversed(periods))


def choose_period(
    *,
    kind: str = PeriodKind.MONTH,
    as_of: date | None = None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> tuple[Period, date]:
    """The period asked for and the as-of date, checked.

    Calendar kinds give the month (quarter, year) holding the as-of date, up to
    it. A custom period needs both dates; its end is the as-of date unless one
    is given. Nothing may be after today.
    """
    today = today or business_today()
    if kind not in dict(PeriodKind.CHOICES):
        raise MetricsInputError(f"Unknown period {kind!r}.", field="period")
    if as_of is not None and as_of > today:
        raise MetricsInputError(
            f"The as-of date {as_of} is in the future; the data ends today ({today}).",
            field="as_of",
        )
    if kind == PeriodKind.CUSTOM or start is not None or end is not None:
        if start is None or end is None:
            raise MetricsInputError(
                "A custom period needs both a start and an end.",
                field="end" if start is not None else "start",
            )
        if end < start:
            raise MetricsInputError(
                f"The end ({end}) is before the start ({start}).", field="end"
            )
        if end > today:
            raise MetricsInputError(
                f"The end {end} is in the future; the data ends today ({today}).",
                field="end",
            )
        as_of = as_of or end
        if as_of < end:
            raise MetricsInputError(
                f"The as-of date ({as_of}) is before the period's end ({end}).",
                field="as_of",
            )
        return Period(start, end, PeriodKind.CUSTOM), as_of
    as_of = as_of or today
    return Period(_period_start(kind, as_of), as_of, kind), as_of
