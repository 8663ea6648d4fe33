"""The loyalty overview's figures, each read set-wise from the ledger.

Points issued are what members received (earned, bonuses, adjustments up);
points redeemed are net of cancelled redemptions; the liability is the points
members hold, valued at the program's point value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from .models import Membership, PointsEntry, Program, Reward, Tier, add_months

Kind = PointsEntry.Kind


@dataclass(frozen=True)
class ExpiringMonth:
    start: date
    end: date  # exclusive
    points: int


@dataclass(frozen=True)
class TierCount:
    name: str
    members: int


@dataclass(frozen=True)
class Overview:
    start: date
    end: date  # inclusive
    members: int
    active_members: int
    issued: int
    redeemed: int
    expired: int
    outstanding: int
    liability: Decimal
    expiring: list[ExpiringMonth]
    redemption_rate: Decimal | None  # percent of the period's issued points
    tiers: list[TierCount]
    top_rewards: list[Reward]


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def overview(start: date, end: date, today: date | None = None) -> Overview:
    """Figures for the days from `start` to `end` (both included)."""
    today = today or timezone.localdate()
    program = Program.current()
    period = PointsEntry.objects.in_period(
        _midnight(start), _midnight(end + timedelta(days=1))
    )
    flows = period.aggregate(
        issued=Sum(
            "points",
            filter=Q(points__gt=0, kind__in=[Kind.EARN, Kind.BONUS, Kind.ADJUST]),
        ),
        redeemed=Sum("points", filter=Q(kind=Kind.REDEEM)),
        given_back=Sum(
            "points", filter=Q(kind=Kind.REVERSAL, redemption__isnull=False)
        ),
        expired=Sum("points", filter=Q(kind=Kind.EXPIRE)),
        active=Count(
            "membership", distinct=True, filter=Q(kind__in=[Kind.EARN, Kind.REDEEM])
        ),
    )
    issued = flows["issued"] or 0
    redeemed = -(flows["redeemed"] or 0) - (flows["given_back"] or 0)
    holdings = Membership.objects.aggregate(members=Count("pk"), points=Sum("balance"))
    outstanding = holdings["points"] or 0

    # Month i: lots expiring from today + i months up to today + i + 1 months
    # (lots due today are the expiry run's, not "to come").
    bounds = [add_months(today, months) for months in range(4)]
    expiring_sums = PointsEntry.objects.open().aggregate(
        **{
            f"month{i}": Sum(
                "remaining",
                filter=Q(
                    expires_on__gt=today,
                    expires_on__gte=bounds[i],
                    expires_on__lt=bounds[i + 1],
                ),
            )
            for i in range(3)
        }
    )
    members_per_tier = dict(
        Membership.objects.order_by()
        .values_list("tier_id")
        .annotate(count=Count("pk"))
        .values_list("tier_id", "count")
    )
    tiers = [TierCount("No tier", members_per_tier.get(None, 0))] + [
        TierCount(tier.name, members_per_tier.get(tier.pk, 0))
        for tier in Tier.objects.all()
    ]
    top_rewards = list(
        Reward.objects.annotate(
            redeemed_count=Count(
                "redemptions",
                filter=Q(
                    redemptions__status="issued",
                    redemptions__created_at__gte=_midnight(start),
                    redemptions__created_at__lt=_midnight(end + timedelta(days=1)),
                ),
            )
        )
        .filter(redeemed_count__gt=0)
        .order_by("-redeemed_count", "name")[:5]
    )
    return Overview(
        start=start,
        end=end,
        members=holdings["members"],
        active_members=flows["active"],
        issued=issued,
        redeemed=redeemed,
        expired=-(flows["expired"] or 0),
        outstanding=outstanding,
        liability=(outstanding * program.point_value).quantize(Decimal("0.01")),
        expiring=[
            ExpiringMonth(bounds[i], bounds[i + 1], expiring_sums[f"month{i}"] or 0)
            for i in range(3)
        ],
        redemption_rate=(
            (Decimal(redeemed) * 100 / issued).quantize(Decimal("0.1"))
            if issued
            else None
        ),
        tiers=tiers,
        top_rewards=top_rewards,
    )
