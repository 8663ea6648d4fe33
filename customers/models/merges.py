"""Where a merged-away customer went: old id -> the customer kept.

A merge deletes one of the two records, but its id lives on in what was sent
before: unsubscribe links in old e-mails name it. Those links must reach the
customer who now holds that person's address, or an opt-out would be lost.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class MergedCustomerQuerySet(models.QuerySet):
    def current_id(self, customer_id: int) -> int:
        """The id a customer's records live under now: its own, or the kept one's.

        Chains are flattened when they are made (merge_customers repoints the
        rows of a customer that is itself merged away), so one lookup is enough.
        """
        kept = self.filter(merged_id=customer_id).values_list("kept_id", flat=True)
        return next(iter(kept), customer_id)


class MergedCustomer(models.Model):
    # Only ids: the merged record's personal data is on the kept one now.
    merged_id = models.BigIntegerField(primary_key=True)
    kept = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="merged_away"
    )
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = MergedCustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Customer #{self.merged_id} merged into #{self.kept_id}"
