"""The frequency policy: how often any customer may be messaged, and when."""

from __future__ import annotations

from datetime import time

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class FrequencyPolicy(models.Model):
    """One row (pk 1): caps across all rules and campaigns, quiet hours, attribution.

    Quiet hours are in the business time zone (settings.TIME_ZONE); a start equal
    to the end means no quiet hours.
    """

    min_days_between = models.PositiveSmallIntegerField(
        "at most one message per customer every (days)",
        default=3,
        validators=[MaxValueValidator(365)],
    )
    max_per_30_days = models.PositiveSmallIntegerField(
        "at most this many messages per customer in 30 days",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    quiet_start = models.TimeField(
        "quiet hours from", default=time(20, 0), help_text="Nothing is sent from…"
    )
    quiet_end = models.TimeField(
        "quiet hours until", default=time(8, 0), help_text="…until this time."
    )
    attribution_days = models.PositiveSmallIntegerField(
        "attribution window (days)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="A purchase this many days after a message counts for it.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "frequency policy"

    def __str__(self) -> str:
        return "Frequency policy"

    @classmethod
    def current(cls) -> FrequencyPolicy:
        """The policy in force (the defaults until an Owner saves one)."""
        policy = cls.objects.filter(pk=1).first()
        return policy if policy is not None else cls(pk=1)
