"""Outreach: MessageTemplate, FollowUpRule, Campaign, FrequencyPolicy, Message and
ProviderEvent."""

from .campaigns import Campaign, CampaignQuerySet
from .events import (
    ACCEPTED_EVENTS,
    REFUSED_EVENTS,
    SUPPRESSING_EVENTS,
    ProviderEvent,
)
from .messages import (
    COUNTED_STATUSES,
    FINAL_STATUSES,
    Message,
    MessageQuerySet,
    Status,
    TimelineMessage,
)
from .policy import FrequencyPolicy
from .rules import (
    CAMPAIGN_FRESHNESS,
    CAMPAIGN_TRIGGER,
    LOYALTY_TRIGGERS,
    TRIGGERS,
    FollowUpRule,
    FollowUpRuleQuerySet,
    MembershipAudience,
    Trigger,
    TriggerSpec,
)
from .templates import Channel, MessageTemplate

__all__ = [
    "ACCEPTED_EVENTS",
    "REFUSED_EVENTS",
    "SUPPRESSING_EVENTS",
    "ProviderEvent",
    "CAMPAIGN_FRESHNESS",
    "CAMPAIGN_TRIGGER",
    "COUNTED_STATUSES",
    "FINAL_STATUSES",
    "LOYALTY_TRIGGERS",
    "TRIGGERS",
    "Campaign",
    "CampaignQuerySet",
    "Channel",
    "FollowUpRule",
    "FollowUpRuleQuerySet",
    "FrequencyPolicy",
    "MembershipAudience",
    "Message",
    "MessageQuerySet",
    "MessageTemplate",
    "Status",
    "TimelineMessage",
    "Trigger",
    "TriggerSpec",
]
