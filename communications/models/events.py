"""What the email and SMS providers told us about the messages they carried."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from customers.models import Customer

from .messages import Message

# Event types (anymail's normalised names, Twilio's mapped onto them) that show
# the provider took the message: after a crash mid-send it went out.
ACCEPTED_EVENTS = frozenset(
    {
        "queued",
        "sent",
        "deferred",
        "delivered",
        "bounced",
        "autoresponded",
        "opened",
        "clicked",
        "complained",
        "unsubscribed",
    }
)
# The provider refused it: it did not go out, and would be refused again.
REFUSED_EVENTS = frozenset({"rejected", "failed"})
# The recipient's address is to be written to no more (an opt-out).
SUPPRESSING_EVENTS = frozenset({"bounced", "complained", "unsubscribed"})


class ProviderEventQuerySet(models.QuerySet):
    def accepted(self) -> ProviderEventQuerySet:
        """Events that prove the provider took the message."""
        return self.filter(event_type__in=ACCEPTED_EVENTS)


class ProviderEvent(models.Model):
    """One event from a provider's webhook, stored once.

    (provider, event_id) is unique: a replayed or retried webhook finds its
    event stored already and changes nothing.
    """

    provider = models.CharField(max_length=40)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=20)
    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider_events",
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider_events",
    )
    provider_message_id = models.CharField(max_length=255, blank=True)
    # Wiped on erasure with the message it belongs to.
    recipient = models.CharField(max_length=254, blank=True)
    detail = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    objects = ProviderEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="provider_event_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["provider", "provider_message_id"],
                name="provider_event_msgid_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
