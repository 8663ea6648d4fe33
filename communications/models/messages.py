"""The outbox: one Message per (rule or campaign, customer, occurrence)."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer

from .campaigns import Campaign
from .rules import CAMPAIGN_TRIGGER, TRIGGERS, FollowUpRule, Trigger
from .templates import Channel, MessageTemplate


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    RECONCILE = "reconcile", "To reconcile"


# Statuses that use up a customer's frequency allowance: a message being sent
# (or whose fate is unknown) counts until it is known not to have gone out.
COUNTED_STATUSES = (Status.SENT, Status.SENDING, Status.RECONCILE)
FINAL_STATUSES = (Status.SENT, Status.FAILED, Status.SKIPPED)
TRIGGER_CHOICES = [*Trigger.choices, (CAMPAIGN_TRIGGER, "Campaign")]


class MessageQuerySet(models.QuerySet):
    def due(self, now: datetime) -> MessageQuerySet:
        """Queued and due, not yet handed to a worker."""
        return self.filter(
            status=Status.QUEUED, scheduled_for__lte=now, dispatched_at__isnull=True
        )

    def for_outbox(self) -> MessageQuerySet:
        """What the outbox list shows, newest plan first."""
        return self.select_related("customer", "rule", "campaign").order_by(
            "-scheduled_for", "-pk"
        )

    def counted_for(self, customer_id: int, since: datetime) -> MessageQuerySet:
        """The customer's messages that use up the frequency allowance since then."""
        return self.filter(
            customer_id=customer_id,
            status__in=COUNTED_STATUSES,
            counted_at__gte=since,
        )


class Message(models.Model):
    """One message to one customer, planned, then sent, failed or skipped.

    ``key`` is unique: the planner writes each (rule, customer, occurrence) once,
    however often it runs. Every state change is a conditional UPDATE in
    communications.sender, so two workers can never both send one message.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="messages"
    )
    rule = models.ForeignKey(
        FollowUpRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    template = models.ForeignKey(
        MessageTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    trigger = models.CharField(max_length=20, choices=TRIGGER_CHOICES)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    reason = models.TextField(
        blank=True, help_text="Why it waits, was skipped or failed."
    )
    key = models.CharField(max_length=200, unique=True)
    priority = models.PositiveSmallIntegerField(default=50)

    # The event the message is about (last contact, purchase, birthday, …).
    occurrence_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(help_text="When it became due.")
    scheduled_for = models.DateTimeField(help_text="Not sent before this time.")
    stale_after = models.DateTimeField(help_text="Skipped if not sent by then.")
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When it started to count against the caps (claimed for sending).
    counted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    # Filled in at send time; wiped on erasure.
    to_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    # What the provider reported after sending (communications.tracking).
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    provider_status = models.CharField(
        max_length=20, blank=True, help_text="The provider's latest word on it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_for", "-pk"]
        indexes = [
            # The dispatcher's scan: queued, due, not yet handed out.
            models.Index(
                fields=["scheduled_for"],
                condition=Q(status="queued"),
                name="message_queued_idx",
            ),
            # The sender's cap count under the customer lock.
            models.Index(
                fields=["customer", "counted_at"],
                condition=Q(status__in=["sent", "sending", "reconcile"]),
                name="message_counted_idx",
            ),
            models.Index(fields=["customer", "-created_at"], name="message_cust_idx"),
            # The sender's "anything of higher priority due?" for one customer:
            # without it a backlog of queued messages is scanned for each send.
            models.Index(fields=["customer", "status"], name="message_cust_status_idx"),
            models.Index(fields=["sent_at"], name="message_sent_idx"),
            # A provider's webhook names the message by the id it gave.
            models.Index(
                fields=["provider_id"],
                condition=~Q(provider_id=""),
                name="message_provider_idx",
            ),
            models.Index(fields=["rule", "status"], name="message_rule_idx"),
            models.Index(fields=["campaign", "status"], name="message_campaign_idx"),
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="message_sending_idx",
            ),
            # A STOP reply names a number: whose texts went to it (tracking).
            models.Index(
                fields=["to_address"],
                condition=Q(channel="sms"),
                name="message_sms_to_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.get_channel_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("communications:message-detail", args=[self.pk])

    @property
    def source_name(self) -> str:
        """The rule's or campaign's name, or what it was when they are gone."""
        if self.rule_id and self.rule:
            return self.rule.name
        if self.campaign_id and self.campaign:
            return self.campaign.name
        return self.trigger_label

    @property
    def trigger_label(self) -> str:
        spec = TRIGGERS.get(self.trigger)
        return spec.short if spec else "Campaign"


class TimelineMessageManager(models.Manager):
    def get_queryset(self):
        # Sent messages are on the timeline already as the outbound Interaction
        # the sender logs; these are the ones that did not go out.
        return (
            super()
            .get_queryset()
            .filter(status__in=[Status.SKIPPED, Status.FAILED, Status.RECONCILE])
        )


class TimelineMessage(Message):
    """Messages that did not go out, as entries of the customer's timeline."""

    objects = TimelineMessageManager()

    class Meta:
        proxy = True
