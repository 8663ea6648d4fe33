"""The program's rules: one Program row, its tiers and its rewards catalogue."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

# Tiers qualify on what happened over this many months up to today.
TIER_WINDOW_MONTHS = 12


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), or that month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Program(models.Model):
    """The single loyalty program of this installation (always the row with id 1)."""

    SINGLE_ROW_ID = 1

    class TierBasis(models.TextChoices):
        POINTS = "points", "Points earned from purchases in the last 12 months"
        SPEND = "spend", "Money spent in the last 12 months"

    name = models.CharField(max_length=100, default="Rewards")
    is_active = models.BooleanField(
        "running",
        default=False,
        help_text="Off: no one earns or joins; members can still spend their points.",
    )
    earn_rate = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("1"),
        validators=[
            MinValueValidator(Decimal("0"), "The earn rate cannot be negative.")
        ],
        help_text="Points per currency unit spent, rounded down per purchase.",
    )
    point_value = models.DecimalField(
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.01"),
        validators=[
            MinValueValidator(Decimal("0"), "A point's value cannot be negative.")
        ],
        help_text="What one point is worth in money: the program's liability.",
    )
    welcome_bonus = models.PositiveIntegerField(
        default=0, help_text="Points given once on joining."
    )
    birthday_bonus = models.PositiveIntegerField(
        default=0, help_text="Points given on each birthday (once a year)."
    )
    expiry_months = models.PositiveSmallIntegerField(
        default=12,
        help_text="Each lot of points expires this many months after it was "
        "earned; 0 = never.",
    )
    auto_enroll = models.BooleanField(
        "enrol on purchase",
        default=True,
        help_text="A customer who is not a member joins with their first purchase.",
    )
    pending_days = models.PositiveSmallIntegerField(
        default=0,
        help_text="Points from a purchase can be spent this many days later "
        "(to outlast the return window).",
    )
    tier_basis = models.CharField(
        "tiers qualify on",
        max_length=10,
        choices=TierBasis.choices,
        default=TierBasis.POINTS,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="program_single_row"),
            models.CheckConstraint(
                condition=Q(earn_rate__gte=0),
                name="program_earn_rate_gte_0",
                violation_error_message="The earn rate cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(point_value__gte=0),
                name="program_point_value_gte_0",
                violation_error_message="A point's value cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> Program:
        """The program; an unsaved, switched-off default until an Owner saves it."""
        found = cls.objects.filter(pk=cls.SINGLE_ROW_ID).first()
        return found or cls(pk=cls.SINGLE_ROW_ID)

    def points_for(self, amount: Decimal, multiplier: Decimal = Decimal("1")) -> int:
        """Points a purchase of `amount` earns at a tier's multiplier, rounded down."""
        exact = Decimal(amount) * self.earn_rate * Decimal(multiplier)
        return max(int(exact.to_integral_value(rounding=ROUND_FLOOR)), 0)

    def expiry_for(self, earned_on: date) -> date | None:
        """The day a lot earned on `earned_on` expires (None: never)."""
        if not self.expiry_months:
            return None
        return add_months(earned_on, self.expiry_months)

    def available_from(self, earned_on: date) -> date:
        """The first day points from a purchase on `earned_on` can be spent."""
        return earned_on + timedelta(days=self.pending_days)

    @staticmethod
    def tier_window_start(today: date | None = None):
        """The moment the tier qualification window opens (aware datetime)."""
        today = today or timezone.localdate()
        first_day = add_months(today, -TIER_WINDOW_MONTHS)
        return timezone.make_aware(datetime.combine(first_day, time.min))


class Tier(models.Model):
    name = models.CharField(max_length=50)
    threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"), "A threshold cannot be negative.")],
        help_text="Points earned (or money spent, as the program says) over the "
        "last 12 months to reach this tier.",
    )
    multiplier = models.DecimalField(
        "earn multiplier",
        max_digits=4,
        decimal_places=2,
        default=Decimal("1"),
        validators=[
            MinValueValidator(Decimal("0.01"), "The multiplier must be more than 0.")
        ],
        help_text="Purchases earn the program's rate times this.",
    )
    perks = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tier_name_unique_ci",
                violation_error_message="A tier with this name exists already.",
            ),
            models.UniqueConstraint(
                fields=["threshold"],
                name="tier_threshold_unique",
                violation_error_message="Another tier has this threshold.",
            ),
            models.CheckConstraint(
                condition=Q(threshold__gte=0),
                name="tier_threshold_gte_0",
                violation_error_message="A threshold cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gt=0),
                name="tier_multiplier_gt_0",
                violation_error_message="The multiplier must be more than 0.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RewardQuerySet(models.QuerySet):
    def available(self) -> RewardQuerySet:
        """Active and not sold out: what staff can redeem now."""
        return self.filter(is_active=True).filter(
            Q(stock__isnull=True) | Q(stock__gt=0)
        )


class Reward(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    cost = models.IntegerField(
        "cost in points",
        validators=[MinValueValidator(1, "A reward costs at least 1 point.")],
    )
    is_active = models.BooleanField("active", default=True)
    stock = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave empty for unlimited."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RewardQuerySet.as_manager()

    class Meta:
        ordering = ["cost", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost__gt=0),
                name="reward_cost_gt_0",
                violation_error_message="A reward costs at least 1 point.",
            ),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0),
                name="reward_stock_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cost} points)"

    @property
    def sold_out(self) -> bool:
        return self.stock is not None and self.stock <= 0
