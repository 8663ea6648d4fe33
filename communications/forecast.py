"""The next 14 days of outreach: what is planned, and what rules will make due.

One grouped query per rule: the day each customer becomes due (last contact +
N days, birthday − N days, …) counted per day. The frequency policy will hold
some of these back; the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce, ExtractDay, ExtractMonth, TruncDate
from django.utils import timezone

from customers.birthdays import birthday_on, celebrated_on
from customers.models import Customer, Purchase

from .due_sets import local_midnight
from .loyalty_bridge import loyalty_forecast
from .models import Campaign, FollowUpRule, Message, Status, Trigger
from .planner import campaign_audience
from .triggers import audience

DAYS = 14


@dataclass
class ForecastRow:
    label: str
    counts: list[int]
    url: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class Forecast:
    days: list[date]
    planned: list[ForecastRow] = field(default_factory=list)
    rules: list[ForecastRow] = field(default_factory=list)
    campaigns: list[ForecastRow] = field(default_factory=list)


def _as_date(value) -> date | None:
    # SQLite returns TruncDate as text.
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _by_day(rows, days: list[date], shift: int = 0) -> list[int]:
    """Counts per day from (day, count) rows, each day moved by `shift` days."""
    index = {day: position for position, day in enumerate(days)}
    counts = [0] * len(days)
    for day, count in rows:
        day = _as_date(day)
        if day is None:
            continue
        position = index.get(day + timedelta(days=shift))
        if position is not None:
            counts[position] += count
    return counts


def _grouped(queryset, expression, first: date, last: date):
    return (
        queryset.annotate(day=expression)
        .filter(day__gte=first, day__lte=last)
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
        .order_by()
    )


def rule_counts(rule: FollowUpRule, days: list[date]) -> list[int] | None:
    """Customers the rule makes due on each day (None: not forecast)."""
    n = rule.days
    first, last = days[0], days[-1]
    shifted = (first - timedelta(days=n), last - timedelta(days=n))
    customers = Customer.objects.filter(audience(rule))
    if rule.trigger == Trigger.CHECK_IN:
        rows = _grouped(
            customers, TruncDate(Coalesce("last_contact_at", "created_at")), *shifted
        )
        counts = _by_day(rows, days, n)
        # Everyone overdue already is due today, but for those this rule has
        # written to since their last personal contact: its own message does
        # not reset the clock, and the planner's key never writes it twice.
        written = Message.objects.filter(
            rule=rule,
            customer_id=OuterRef("pk"),
            occurrence_at=Coalesce(OuterRef("last_contact_at"), OuterRef("created_at")),
        )
        counts[0] += (
            customers.filter(
                Q(last_contact_at__date__lt=shifted[0])
                | Q(last_contact_at__isnull=True, created_at__date__lt=shifted[0])
            )
            .exclude(Exists(written))
            .count()
        )
        return counts
    if rule.trigger == Trigger.WIN_BACK:
        return _by_day(
            _grouped(customers, TruncDate("last_purchase_at"), *shifted), days, n
        )
    if rule.trigger == Trigger.WELCOME:
        return _by_day(_grouped(customers, TruncDate("created_at"), *shifted), days, n)
    if rule.trigger == Trigger.THANK_YOU:
        purchases = Purchase.objects.filter(audience(rule, "customer__"))
        rows = (
            purchases.annotate(day=TruncDate("occurred_at"))
            .filter(day__gte=shifted[0], day__lte=shifted[1])
            .values("day")
            .annotate(n=Count("customer", distinct=True))
            .values_list("day", "n")
            .order_by()
        )
        return _by_day(rows, days, n)
    if rule.trigger == Trigger.BIRTHDAY:
        return birthday_counts(customers, days, n)
    return loyalty_forecast(rule, days, customers, _by_day)


def birthday_counts(customers, days: list[date], n: int) -> list[int]:
    """One grouped query: birthdays (month, day) N days after each of the days."""
    position_of: dict[tuple[int, int], int] = {}
    condition = Q()
    for position, day in enumerate(days):
        birthday = day + timedelta(days=n)
        condition |= birthday_on(birthday)
        for month_and_day in celebrated_on(birthday):
            position_of[month_and_day] = position
    rows = (
        customers.filter(condition)
        .annotate(month=ExtractMonth("birthday"), day=ExtractDay("birthday"))
        .values("month", "day")
        .annotate(n=Count("pk"))
        .values_list("month", "day", "n")
        .order_by()
    )
    counts = [0] * len(days)
    for month, day, count in rows:
        position = position_of.get((month, day))
        if position is not None:
            counts[position] += count
    return counts


def planned_counts(days: list[date]) -> list[ForecastRow]:
    """Messages already written and waiting, per rule or campaign and day."""
    rows = (
        Message.objects.filter(status=Status.QUEUED)
        .annotate(day=TruncDate("scheduled_for"))
        .values("day", "rule__name", "campaign__name", "trigger")
        .annotate(n=Count("pk"))
        .order_by()
    )
    grouped: dict[str, list] = {}
    for row in rows:
        label = row["rule__name"] or row["campaign__name"] or row["trigger"]
        grouped.setdefault(label, []).append((_as_date(row["day"]), row["n"]))
    today = days[0]
    result = []
    for label, items in sorted(grouped.items()):
        # Anything overdue goes out with today's.
        items = [(max(day, today) if day else day, n) for day, n in items]
        result.append(ForecastRow(label, _by_day(items, days)))
    return result


def next_days(today: date | None = None) -> Forecast:
    today = today or timezone.localdate()
    days = [today + timedelta(days=offset) for offset in range(DAYS)]
    forecast = Forecast(days=days, planned=planned_counts(days))
    for rule in FollowUpRule.objects.active().by_priority().prefetch_related("tags"):
        counts = rule_counts(rule, days)
        if counts is not None:
            forecast.rules.append(
                ForecastRow(rule.name, counts, rule.get_absolute_url())
            )
    end = local_midnight(days[-1] + timedelta(days=1))
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, send_at__lt=end
    ).select_related("template", "segment"):
        day = max(timezone.localdate(campaign.send_at), today)
        counts = _by_day([(day, campaign_audience(campaign).count())], days)
        forecast.campaigns.append(
            ForecastRow(campaign.name, counts, campaign.get_absolute_url())
        )
    return forecast
