"""Building blocks for outreach tests: templates, rules and messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from communications import services
from communications.models import Message, MessageTemplate, Status, Trigger
from customers.tests.factories import CustomerFactory

# A fixed clock: a Saturday at noon (the business time zone is UTC in tests).
NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


def make_template(channel: str = "email", **fields) -> MessageTemplate:
    fields.setdefault("name", f"Template {MessageTemplate.objects.count() + 1}")
    if channel == "email":
        fields.setdefault("subject", "Hello {{ first_name }}")
    fields.setdefault("body_text", "Hello {{ first_name }} from {{ business_name }}.")
    return services.save_template(channel=channel, **fields)


def make_rule(trigger: str, days: int = 0, channel: str = "email", **fields):
    template = fields.pop("template", None) or make_template(channel)
    fields.setdefault("name", f"{trigger} rule {template.pk}")
    return services.save_rule(
        trigger=trigger, days=days, channel=channel, template=template, **fields
    )


def consenting_customer(**fields):
    fields.setdefault("email_opt_in", True)
    fields.setdefault("sms_opt_in", True)
    return CustomerFactory(**fields)


def queue_message(
    customer,
    *,
    now: datetime,
    rule=None,
    channel: str = "email",
    priority: int = 50,
    key: str | None = None,
    trigger: str = Trigger.CHECK_IN,
    stale_after: datetime | None = None,
    **fields,
) -> Message:
    """A message as the planner writes it: queued and due at `now`."""
    rule = rule or make_rule(trigger, 30, channel)
    return Message.objects.create(
        customer=customer,
        rule=rule,
        template=rule.template,
        trigger=rule.trigger,
        channel=channel,
        priority=priority,
        key=key or f"test:{rule.pk}:{customer.pk}:{Message.objects.count()}",
        due_at=now,
        scheduled_for=now,
        stale_after=stale_after or now + timedelta(days=7),
        **fields,
    )


def sent_before(customer, *, at: datetime, count: int = 1) -> None:
    """Messages the customer received earlier (they count against the caps)."""
    rule = make_rule(Trigger.CHECK_IN, 30)
    for number in range(count):
        moment = at - timedelta(days=number * 2)
        Message.objects.create(
            customer=customer,
            rule=rule,
            template=rule.template,
            trigger=rule.trigger,
            channel="email",
            status=Status.SENT,
            key=f"earlier:{customer.pk}:{number}:{moment.isoformat()}",
            due_at=moment,
            scheduled_for=moment,
            stale_after=moment + timedelta(days=7),
            claimed_at=moment,
            counted_at=moment,
            sent_at=moment,
            finished_at=moment,
        )
