"""What members did with their points: redemptions, and their moves between tiers."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .ledger import Membership
from .program import Reward, Tier


class Redemption(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        CANCELLED = "cancelled", "Cancelled"

    # Unambiguous when read aloud or typed: no 0/O, 1/I/L.
    CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

    code = models.CharField(max_length=9, unique=True, editable=False)
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="redemptions"
    )
    reward = models.ForeignKey(
        Reward, on_delete=models.PROTECT, related_name="redemptions"
    )
    points = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    # A cancellation gives the points back as a lot expiring when the latest of
    # the lots they were taken from would have (None: never).
    refund_expires_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gt=0), name="redemption_points_gt_0"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="issued", cancelled_at__isnull=True)
                    | Q(status="cancelled", cancelled_at__isnull=False)
                ),
                name="redemption_cancelled_when_cancelled",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="redemption_created_idx")]

    def __str__(self) -> str:
        return f"{self.code}: {self.reward.name}"

    def get_absolute_url(self) -> str:
        return reverse("loyalty:redemption", args=[self.pk])

    @classmethod
    def new_code(cls) -> str:
        """A random code such as "K7QM-3XPA" (31^8: about 850 billion)."""
        letters = "".join(secrets.choice(cls.CODE_ALPHABET) for _ in range(8))
        return f"{letters[:4]}-{letters[4:]}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED


class TierChange(models.Model):
    """A member moved between tiers; the names survive a tier's deletion."""

    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="tier_changes"
    )
    old_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    new_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    old_name = models.CharField(max_length=50, blank=True)
    new_name = models.CharField(max_length=50, blank=True)
    # The window's figure (points or spend) that decided the change.
    qualifying = models.DecimalField(max_digits=14, decimal_places=2)
    upgrade = models.BooleanField()
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.old_name or 'no tier'} → {self.new_name or 'no tier'}"
