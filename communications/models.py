"""Outreach: MessageTemplate, FollowUpRule, Campaign, Message (the outbox)."""
