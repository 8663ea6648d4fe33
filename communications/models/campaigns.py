"""Campaigns: one message to a segment's customers at a set time."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from customers.models import SavedSegment

from .templates import MessageTemplate


class CampaignQuerySet(models.QuerySet):
    def due(self, now) -> CampaignQuerySet:
        """Scheduled campaigns whose time has come."""
        return self.filter(status=Campaign.Status.SCHEDULED, send_at__lte=now)


class Campaign(models.Model):
    """A one-off message; cancellable until it starts (its messages are written)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        STARTED = "started", "Started"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=100)
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, related_name="campaigns"
    )
    segment = models.ForeignKey(
        SavedSegment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
        help_text="Who receives it: a saved segment, or every customer.",
    )
    everyone = models.BooleanField(
        default=False,
        help_text="Send to every customer who opted in (instead of a segment).",
    )
    send_at = models.DateTimeField()
    priority = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(1000)],
        help_text="Lower goes first when several messages are due for a customer.",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.SCHEDULED
    )
    note = models.CharField(max_length=200, blank=True, editable=False)
    recipients = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="Messages written at start."
    )
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-send_at", "-pk"]
        indexes = [
            models.Index(
                fields=["send_at"],
                condition=models.Q(status="scheduled"),
                name="campaign_scheduled_idx",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communications:campaign-detail", args=[self.pk])

    @property
    def channel(self) -> str:
        return self.template.channel

    @property
    def can_cancel(self) -> bool:
        return self.status == self.Status.SCHEDULED
