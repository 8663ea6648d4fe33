"""The Owner's security settings: one row, read through a cache on every request."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

# v2: the cached value holds the two-factor requirement too.
CACHE_KEY = "crm:security-settings:v2"
CACHE_SECONDS = 300


class SecuritySettings(models.Model):
    """How long a login lasts (after an idle time, and at most after an absolute
    time), and whether everyone must use two-factor login.

    A singleton (primary key 1). The defaults are the safe ones a fresh
    installation starts with.
    """

    SINGLETON_PK = 1
    DEFAULT_IDLE_MINUTES = 30
    DEFAULT_ABSOLUTE_HOURS = 12

    idle_timeout_minutes = models.PositiveIntegerField(
        "log out after inactivity (minutes)",
        default=DEFAULT_IDLE_MINUTES,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="A session unused this long ends; 5 minutes to 24 hours.",
    )
    absolute_timeout_hours = models.PositiveIntegerField(
        "log out after (hours), however active",
        default=DEFAULT_ABSOLUTE_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(30 * 24)],
        help_text="Every login ends this long after it began; 1 hour to 30 days.",
    )
    require_two_factor = models.BooleanField(
        "require two-factor login for everyone",
        default=False,
        help_text="Everyone without an authenticator app, you included, is asked "
        "to set one up before any other page opens.",
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "security settings"
        verbose_name_plural = "security settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1), name="security_settings_singleton"
            )
        ]

    def __str__(self) -> str:
        return (
            f"Sessions: {self.idle_timeout_minutes} min idle, "
            f"{self.absolute_timeout_hours} h at most"
        )

    def clean(self) -> None:
        super().clean()
        if (
            self.idle_timeout_minutes
            and self.absolute_timeout_hours
            and self.idle_timeout_minutes > self.absolute_timeout_hours * 60
        ):
            raise ValidationError(
                {
                    "idle_timeout_minutes": "The idle time cannot be longer than "
                    "the absolute time."
                }
            )

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.idle_timeout_minutes)

    @property
    def absolute_timeout(self) -> timedelta:
        return timedelta(hours=self.absolute_timeout_hours)

    @classmethod
    def load(cls) -> SecuritySettings:
        """The stored settings, or unsaved defaults when none were ever saved."""
        return cls.objects.filter(pk=cls.SINGLETON_PK).first() or cls(
            pk=cls.SINGLETON_PK
        )


def _cached_settings() -> tuple[int, int, bool]:
    """(idle minutes, absolute hours, two-factor required), cached.

    Read on every authenticated request, so it costs no query while cached;
    saving the settings (crm.security.services) refreshes the cache.
    """
    cached = cache.get(CACHE_KEY)
    if cached is None:
        current = SecuritySettings.load()
        cached = (
            current.idle_timeout_minutes,
            current.absolute_timeout_hours,
            current.require_two_factor,
        )
        cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return cached


def session_limits() -> tuple[timedelta, timedelta]:
    """(idle, absolute) session limits, from the cache when it has them."""
    idle_minutes, absolute_hours, _ = _cached_settings()
    return timedelta(minutes=idle_minutes), timedelta(hours=absolute_hours)


def two_factor_required() -> bool:
    """Whether the Owners require two-factor login of everyone (cached)."""
    return bool(_cached_settings()[2])
