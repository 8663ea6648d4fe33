"""A customer's history: interactions, follow-ups, purchases and feedback."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .customer import (
    FUTURE_TOLERANCE,
    Customer,
    validate_moment,
    validate_single_line,
)


class TimelineQuerySet(models.QuerySet):
    def for_customer(self, customer: Customer):
        """Newest first, for one customer's timeline."""
        return self.filter(customer=customer).order_by("-occurred_at", "-pk")


class InteractionQuerySet(TimelineQuerySet):
    def personal_contact(self) -> InteractionQuerySet:
        """Contact by a person: what "last contact" and "days since" count."""
        return self.filter(Interaction.PERSONAL_CONTACT)

    def automated_messages(self) -> InteractionQuerySet:
        """Messages a rule or campaign sent."""
        return self.filter(Interaction.AUTOMATED_MESSAGE)


class Interaction(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        MEETING = "meeting", "Meeting"
        VISIT = "visit", "Visit"
        NOTE = "note", "Note"
        SUPPORT = "support", "Support"

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        INTERNAL = "internal", "Internal"

    # A note is staff talking among themselves; it is not contact with the customer.
    NOT_CONTACT = {Kind.NOTE}
    # The one rule for what counts as personal contact: not a note, and not a
    # message a rule or campaign sent. Two hundred automated e-mails on a first
    # run must not make everyone look recently spoken to.
    PERSONAL_CONTACT = Q(automated=False) & ~Q(kind__in=NOT_CONTACT)
    AUTOMATED_MESSAGE = Q(automated=True) & ~Q(kind__in=NOT_CONTACT)

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="interactions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CALL)
    direction = models.CharField(
        max_length=16, choices=Direction.choices, default=Direction.OUTBOUND
    )
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    occurred_at = models.DateTimeField(
        default=timezone.now, validators=[validate_moment]
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    # db_default too: the demo's COPY and other bulk writers leave it out.
    automated = models.BooleanField(
        default=False,
        db_default=False,
        editable=False,
        help_text="Sent by a rule or campaign, not by a person.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="interaction_tl_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"

    @classmethod
    def is_personal_contact(cls, kind: str, *, automated: bool = False) -> bool:
        """PERSONAL_CONTACT for one row, for writers that have no instance."""
        return not automated and kind not in cls.NOT_CONTACT

    @property
    def counts_as_contact(self) -> bool:
        """Personal contact: moves "last contact"."""
        return self.is_personal_contact(self.kind, automated=self.automated)

    @property
    def customer_figure(self) -> str | None:
        """The customer's running figure this interaction moves, if any."""
        if self.kind in self.NOT_CONTACT:
            return None
        return "last_automated_at" if self.automated else "last_contact_at"


class FollowUpQuerySet(models.QuerySet):
    def open(self) -> FollowUpQuerySet:
        """Not yet completed."""
        return self.filter(completed_at__isnull=True)

    def assigned_to(self, user) -> FollowUpQuerySet:
        """Follow-ups the user is to do."""
        return self.filter(assignee=user)

    def due_by(self, day: date) -> FollowUpQuerySet:
        """Due on or before the day: overdue and due that day."""
        return self.filter(due_on__lte=day)


class FollowUp(models.Model):
    """A reminder to get back to a customer, set when an interaction is logged."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="follow_ups"
    )
    origin = models.ForeignKey(
        Interaction,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        help_text="The interaction that asked for this follow-up.",
    )
    due_on = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follow_ups"
    )
    note = models.CharField(max_length=200, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        Interaction,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="completed_follow_ups",
        help_text="The interaction that did it.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(
                fields=["assignee", "due_on"],
                condition=Q(completed_at__isnull=True),
                name="followup_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Follow-up due {self.due_on}"

    @property
    def is_overdue(self) -> bool:
        return self.completed_at is None and self.due_on < timezone.localdate()


class Purchase(models.Model):
    # No index of its own: purchase_tl_idx (customer, -occurred_at) serves every
    # lookup by customer, and one index less is one write less per purchase.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="purchases", db_index=False
    )
    occurred_at = models.DateTimeField(
        default=timezone.now, validators=[validate_moment]
    )
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    # One-line text (validate_single_line): the form, the API and the imports
    # refuse line breaks and NUL the same way.
    currency = models.CharField(
        max_length=3, blank=True, validators=[validate_single_line]
    )
    reference = models.CharField(
        max_length=64,
        blank=True,
        help_text="Order or receipt number.",
        validators=[validate_single_line],
    )
    channel = models.CharField(
        max_length=32, blank=True, validators=[validate_single_line]
    )
    refunded_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), editable=False
    )
    refunded_at = models.DateTimeField(null=True, blank=True, editable=False)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recorded_purchases",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="purchase_amount_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=models.F("amount")),
                name="purchase_refund_within_amount",
            ),
            models.UniqueConstraint(
                "reference",
                condition=~Q(reference=""),
                name="purchase_reference_unique",
                violation_error_message="A purchase with this reference exists.",
            ),
            # "Not in the future" is a PostgreSQL CHECK added in migration 0002:
            # SQLite refuses non-deterministic functions in CHECK constraints.
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="purchase_tl_idx"),
            models.Index(fields=["occurred_at"], name="purchase_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.occurred_at:%Y-%m-%d}"

    def clean(self) -> None:
        super().clean()
        if self.occurred_at and self.occurred_at > timezone.now() + FUTURE_TOLERANCE:
            raise ValidationError(
                {"occurred_at": "A purchase cannot be dated in the future."}
            )

    @property
    def net_amount(self) -> Decimal:
        """The amount less what was refunded: what the purchase still counts
        for, and what can still be refunded of it."""
        return self.amount - self.refunded_amount


class Feedback(models.Model):
    class Kind(models.TextChoices):
        CSAT = "csat", "Satisfaction (1–5)"
        NPS = "nps", "Recommend (0–10)"

    SCORE_RANGES = {Kind.CSAT: (1, 5), Kind.NPS: (0, 10)}

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="feedback"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CSAT)
    score = models.SmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.TextField(blank=True)
    occurred_at = models.DateTimeField(
        default=timezone.now, validators=[validate_moment]
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name_plural = "feedback"
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="csat") & Q(score__gte=1) & Q(score__lte=5))
                | (Q(kind="nps") & Q(score__gte=0) & Q(score__lte=10)),
                name="feedback_score_in_range",
                violation_error_message="Score out of range for its kind.",
            )
        ]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="feedback_tl_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.score}"

    def clean(self) -> None:
        super().clean()
        low, high = self.SCORE_RANGES.get(self.kind, (0, 10))
        if self.score is not None and not low <= self.score <= high:
            raise ValidationError(
                {"score": f"Choose a score from {low} to {high} for this kind."}
            )


class ConsentChange(models.Model):
    """History of a customer's consent: what changed, when, how and by whom."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="consent_changes"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    opted_in = models.BooleanField()
    source = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        state = "opted in" if self.opted_in else "opted out"
        return f"{self.customer}: {self.channel} {state}"
