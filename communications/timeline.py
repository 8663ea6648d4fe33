"""Sent and skipped messages on the customer's timeline (CRM_TIMELINE_SOURCES)."""

from customers.timeline import TimelineSource

from .models import TimelineMessage

MESSAGES = TimelineSource(
    TimelineMessage,
    {
        "t_kind": "trigger",
        "t_direction": "status",
        "t_subject": "subject",
        "t_body": "reason",
        "t_channel": "channel",
    },
    template="communications/_timeline_message.html",
    occurred_at="finished_at",
    by=None,
    name="message",
)
