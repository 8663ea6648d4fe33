"""Outreach pages: the outbox for Staff; rules, campaigns, templates, policy for
Owners; the public unsubscribe page."""

from .campaigns import (
    CampaignCancelView,
    CampaignDetailView,
    CampaignFormView,
    CampaignListView,
    CampaignSendNowView,
    PolicyView,
)
from .outbox import MessageDetailView, MessageResolveView, OutboxView, UpcomingView
from .rules import (
    RuleDeleteView,
    RuleFormView,
    RuleListView,
    TemplateDeleteView,
    TemplateFormView,
    TemplateListView,
    TemplatePreviewView,
)
from .unsubscribe import UnsubscribeView

__all__ = [
    "CampaignCancelView",
    "CampaignDetailView",
    "CampaignFormView",
    "CampaignListView",
    "CampaignSendNowView",
    "MessageDetailView",
    "MessageResolveView",
    "OutboxView",
    "PolicyView",
    "RuleDeleteView",
    "RuleFormView",
    "RuleListView",
    "TemplateDeleteView",
    "TemplateFormView",
    "TemplateListView",
    "TemplatePreviewView",
    "UnsubscribeView",
    "UpcomingView",
]
