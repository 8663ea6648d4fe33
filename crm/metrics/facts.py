"""Customer facts: one row per customer with everything the figures count.

One pass over the purchases up to the as-of day gives, per customer, the first
occasion day, the latest purchase by each boundary date the figures look at, and
the RFM inputs (occasions, net spend) at the ends of this period and the one
before. Every retention figure, RFM score and customer list is an aggregate or a
filter of these rows, so a number and the list behind it cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce

from .occasions import MONEY, counted_purchases, cutoff_for, local_day
from .periods import Period, end_of_day, start_of_day
from .sql import Relation

TREND_PERIODS = 12


def default_window_days() -> int:
    return getattr(settings, "DASHBOARD_ACTIVITY_WINDOW_DAYS", 365)


@dataclass(frozen=True)
class Plan:
    """What to compute: the period, the as-of date and the activity window."""

    period: Period
    as_of: date
    window_days: int = field(default_factory=default_window_days)
    trend_count: int = TREND_PERIODS

    @cached_property
    def previous(self) -> Period:
        return self.period.previous()

    @cached_property
    def trend(self) -> list[Period]:
        """The trend's periods, oldest first; the last is ``period``."""
        return self.period.trailing(self.trend_count)

    @cached_property
    def periods(self) -> list[Period]:
        """Every period with columns in the facts: the trend's, then the previous."""
        return [*self.trend, self.previous]

    @cached_property
    def boundaries(self) -> list[date]:
        """Every date at whose end activity is looked at, without repeats."""
        days = []
        for period in self.periods:
            days += [period.start_boundary, period.last]
        return sorted(set(days))

    @property
    def cutoff(self):
        return cutoff_for(self.as_of)

    def bucket_case(self, column: str, starts: list[date]) -> tuple[str, tuple]:
        """SQL: the index of the run of days (from each start on) holding a moment.

        -1 before the first start; the runs are contiguous and end with the
        as-of day.
        """
        whens = " ".join(f"WHEN {column} < %s THEN {i - 1}" for i in range(len(starts)))
        params = tuple(start_of_day(day) for day in starts)
        return f"CASE {whens} ELSE {len(starts) - 1} END", params

    def boundary(self, day: date) -> int:
        return self.boundaries.index(day)

    def period_index(self, period: Period) -> int:
        return self.periods.index(period)

    def window_start(self, day: date) -> date:
        """The first day of the activity window that ends with ``day``."""
        return day - timedelta(days=self.window_days - 1)

    def active_at(self, day: date, alias: str = "t") -> tuple[str, tuple]:
        """SQL condition (and params): the customer was active at the end of day."""
        since = start_of_day(self.window_start(day))
        return f"{alias}.last_{self.boundary(day)} >= %s", (since,)

    @property
    def cache_key(self) -> str:
        p = self.period
        return (
            f"{p.kind}:{p.first}:{p.last}:{self.as_of}:{self.window_days}:"
            f"{self.trend_count}"
        )


def default_plan_for(as_of: date) -> Plan:
    """The month holding the as-of date, up to it, with the default window."""
    from .periods import PeriodKind, choose_period

    period, as_of = choose_period(kind=PeriodKind.MONTH, as_of=as_of, today=as_of)
    return Plan(period, as_of)


def customer_facts(plan: Plan) -> Relation:
    """The facts relation for the plan: one row per customer who has bought.

    ``first_at`` is the moment of the first purchase, ``first_day`` its day (the
    acquisition day); ``last_<j>`` the moment of the latest
    purchase by the end of ``plan.boundaries[j]`` (NULL if none by then);
    ``occasions_to_<cur|prev>`` and ``value_to_<cur|prev>`` the occasions and net
    spend by the end of this period and the one before.
    """
    # Every purchase counted is before the end of the as-of day: no filter there.
    columns = {
        f"last_{j}": Max("occurred_at")
        if day >= plan.as_of
        else Max("occurred_at", filter=Q(occurred_at__lt=end_of_day(day)))
        for j, day in enumerate(plan.boundaries)
    }
    for name, period in (("cur", plan.period), ("prev", plan.previous)):
        before_end = Q(occurred_at__lt=end_of_day(period.last))
        columns[f"occasions_to_{name}"] = Count("day", distinct=True, filter=before_end)
        columns[f"value_to_{name}"] = Coalesce(
            Sum("net", filter=before_end), Value(Decimal("0")), output_field=MONEY
        )
    columns["purchases_to_cur"] = Count(
        "pk", filter=Q(occurred_at__lt=end_of_day(plan.period.last))
    )
    queryset = (
        counted_purchases(plan.cutoff)
        .values("customer_id")
        .annotate(
            first_at=Min("occurred_at"),
            first_day=local_day(Min("occurred_at")),
            **columns,
        )
        .order_by()
    )
    return Relation.of(queryset)
