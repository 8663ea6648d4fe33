from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ErasureRecord(models.Model):
    """That a customer's personal data was erased: who did it and when.

    Holds none of the erased data: only the customer's id (the anonymous row
    stays, so the figures do not change) and how many rows of each kind were
    wiped.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="erasure"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="erasures",
    )
    at = models.DateTimeField(default=timezone.now)
    wiped = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Customer #{self.customer_id} erased on {self.at:%Y-%m-%d}"
