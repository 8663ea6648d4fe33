"""Follow-up rules: which customers get which template, when, on which channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from customers.models import Tag

from .templates import Channel, MessageTemplate


class Trigger(models.TextChoices):
    CHECK_IN = "check_in", "Check-in: N days after the last contact"
    THANK_YOU = "thank_you", "Thank-you: N days after a purchase"
    WIN_BACK = "win_back", "Win-back: N days without a purchase"
    BIRTHDAY = "birthday", "Birthday: N days before it (0: on the day)"
    POINTS_EXPIRING = "points_expiring", "Points expiring within N days"
    WELCOME = "welcome", "Welcome: N days after becoming a customer"
    MEMBER_WELCOME = "member_welcome", "Member welcome: N days after joining loyalty"
    TIER_REACHED = "tier_reached", "Tier reached: N days after reaching a tier"


@dataclass(frozen=True)
class TriggerSpec:
    key: str  # the message key's prefix
    short: str  # a short label for lists
    priority: int  # default priority: lower goes first when several are due
    freshness: timedelta  # how late a held-back message may still go out


TRIGGERS: dict[str, TriggerSpec] = {
    Trigger.BIRTHDAY: TriggerSpec("birthday", "Birthday", 10, timedelta(days=2)),
    Trigger.POINTS_EXPIRING: TriggerSpec(
        "points-expiring", "Points expiring", 20, timedelta(days=5)
    ),
    Trigger.TIER_REACHED: TriggerSpec(
        "tier-reached", "Tier reached", 30, timedelta(days=7)
    ),
    Trigger.MEMBER_WELCOME: TriggerSpec(
        "member-welcome", "Member welcome", 40, timedelta(days=7)
    ),
    Trigger.WELCOME: TriggerSpec("welcome", "Welcome", 50, timedelta(days=7)),
    Trigger.THANK_YOU: TriggerSpec("thank-you", "Thank-you", 60, timedelta(days=3)),
    Trigger.WIN_BACK: TriggerSpec("win-back", "Win-back", 70, timedelta(days=14)),
    Trigger.CHECK_IN: TriggerSpec("check-in", "Check-in", 80, timedelta(days=7)),
}

# Messages of a campaign: their priority and freshness unless the campaign says.
CAMPAIGN_TRIGGER = "campaign"
CAMPAIGN_FRESHNESS = timedelta(days=3)

# Triggers that need the loyalty program (memberships, tiers, points).
LOYALTY_TRIGGERS = {
    Trigger.POINTS_EXPIRING,
    Trigger.MEMBER_WELCOME,
    Trigger.TIER_REACHED,
}


class MembershipAudience(models.TextChoices):
    ANYONE = "", "Members and non-members"
    MEMBERS = "members", "Loyalty members only"
    NON_MEMBERS = "non_members", "Non-members only"


class FollowUpRuleQuerySet(models.QuerySet):
    def active(self) -> FollowUpRuleQuerySet:
        """Rules that the planner runs."""
        return self.filter(active=True)

    def by_priority(self) -> FollowUpRuleQuerySet:
        """Most urgent first: the order in which due messages go out."""
        return self.order_by("priority", "pk")


class FollowUpRule(models.Model):
    """A trigger, an audience, a channel and a template; the planner runs it."""

    name = models.CharField(max_length=100)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    days = models.IntegerField(
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(3650)],
        help_text="The N of the trigger, in days.",
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, related_name="rules"
    )
    tags = models.ManyToManyField(
        Tag,
        blank=True,
        related_name="follow_up_rules",
        help_text="Only customers with any of these tags (none: everyone).",
    )
    membership = models.CharField(
        "loyalty membership",
        max_length=12,
        choices=MembershipAudience.choices,
        default=MembershipAudience.ANYONE,
        blank=True,
    )
    tier = models.ForeignKey(
        "loyalty.Tier",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_up_rules",
        help_text="Only members in this tier. For “tier reached”: reaching this "
        "tier (empty: any higher tier).",
    )
    priority = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(1000)],
        help_text="Lower goes first when several messages are due for a customer.",
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FollowUpRuleQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="follow_up_rule_name_unique_ci",
                violation_error_message="A rule with this name exists already.",
            ),
            models.CheckConstraint(
                condition=Q(days__gte=0), name="follow_up_rule_days_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("communications:rule-edit", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        template = getattr(self, "template", None) if self.template_id else None
        if template is not None and self.channel and template.channel != self.channel:
            raise ValidationError(
                {"template": f"Choose a {self.get_channel_display()} template."}
            )

    @property
    def spec(self) -> TriggerSpec:
        return TRIGGERS[self.trigger]

    @property
    def freshness(self) -> timedelta:
        return self.spec.freshness
