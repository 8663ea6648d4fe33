"""Saved segments: named list filters, re-evaluated on each use."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


class SavedSegment(models.Model):
    """A named set of list filters, re-evaluated each time it is used."""

    name = models.CharField(max_length=100)
    params = models.JSONField(
        default=dict, help_text="The customer list's filter parameters."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="segments",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="segment_name_unique_ci",
                violation_error_message="A segment with this name exists already.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:segment-detail", args=[self.pk])
