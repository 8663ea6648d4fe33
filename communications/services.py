"""Every change of state an Owner (or a customer's unsubscribe) makes.

The background work (planning, sending, sweeping) lives in planner, sender and
sweeper; these are the page-driven changes, each in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.locking import lock_customer
from customers.models import ConsentChange, Customer, Tag
from customers.services import update_customer

from .models import (
    TRIGGERS,
    Campaign,
    FollowUpRule,
    FrequencyPolicy,
    Message,
    MessageTemplate,
    Status,
)
from .planner import start_campaign
from .sender import record_sent
from .sweeper import requeue

# A campaign set this far in the past counts as "now" (a form takes a while).
PAST_TOLERANCE = timedelta(minutes=5)
TEMPLATE_FIELDS = ("name", "channel", "subject", "body_text", "body_html")
RULE_FIELDS = ("name", "trigger", "days", "channel", "template", "priority", "active")
CAMPAIGN_FIELDS = ("name", "template", "segment", "everyone", "send_at", "priority")


def _apply(instance, fields: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(instance, name, value)


@transaction.atomic
def save_template(
    *, template: MessageTemplate | None = None, **fields: Any
) -> MessageTemplate:
    """Create or change a template; refuses bad syntax and unknown variables."""
    template = template or MessageTemplate()
    _apply(template, fields, TEMPLATE_FIELDS)
    if template.pk and "channel" in fields:
        in_use = template.rules.exclude(channel=template.channel).exists()
        if in_use:
            raise ValidationError(
                {"channel": "Rules on the other channel use this template."}
            )
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def delete_template(*, template: MessageTemplate) -> None:
    if template.rules.exists() or template.campaigns.exists():
        raise ValidationError(
            "Rules or campaigns use this template; change them first."
        )
    template.delete()


@transaction.atomic
def save_rule(
    *,
    rule: FollowUpRule | None = None,
    tags: Iterable[Tag] | None = None,
    by=None,
    **fields: Any,
) -> FollowUpRule:
    """Create or change a follow-up rule; a new rule gets its trigger's priority."""
    rule = rule or FollowUpRule(created_by=by)
    trigger = fields.get("trigger") or rule.trigger
    if fields.get("priority") is None and trigger in TRIGGERS:
        # Left empty: the trigger's usual place in the priority order.
        fields["priority"] = TRIGGERS[trigger].priority
    _apply(rule, fields, RULE_FIELDS + ("membership", "tier"))
    rule.full_clean()
    rule.save()
    if tags is not None:
        rule.tags.set(tags)
    return rule


@transaction.atomic
def delete_rule(*, rule: FollowUpRule) -> None:
    """Delete the rule; its messages stay in the outbox (queued ones are skipped)."""
    Message.objects.filter(rule=rule, status=Status.QUEUED).update(
        status=Status.SKIPPED,
        reason="Its rule was deleted.",
        finished_at=timezone.now(),
    )
    rule.delete()


def _check_send_at(send_at: datetime) -> None:
    if send_at < timezone.now() - PAST_TOLERANCE:
        raise ValidationError({"send_at": "Choose a time in the future."})


def _check_audience(campaign: Campaign) -> None:
    if campaign.everyone and campaign.segment_id:
        raise ValidationError({"segment": "Choose a segment or everyone, not both."})
    if not campaign.everyone and not campaign.segment_id:
        raise ValidationError({"segment": "Choose a segment, or send to everyone."})


@transaction.atomic
def save_campaign(
    *, campaign: Campaign | None = None, by=None, **fields: Any
) -> Campaign:
    """Create or change a campaign that has not started; refuses a past time."""
    if campaign is not None:
        campaign = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
        if not campaign.can_cancel:
            raise ValidationError("This campaign has started; it cannot change.")
    campaign = campaign or Campaign(created_by=by)
    _apply(campaign, fields, CAMPAIGN_FIELDS)
    _check_send_at(campaign.send_at)
    _check_audience(campaign)
    campaign.full_clean()
    campaign.save()
    return campaign


@transaction.atomic
def cancel_campaign(*, campaign: Campaign, by=None) -> Campaign:
    """Cancel a campaign that has not started yet."""
    locked = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
    if not locked.can_cancel:
        raise ValidationError(
            "This campaign has started; it can no longer be cancelled."
        )
    locked.status = Campaign.Status.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.note = f"Cancelled by {by}." if by else "Cancelled."
    locked.save(update_fields=["status", "cancelled_at", "note"])
    return locked


def send_campaign_now(*, campaign: Campaign) -> int:
    """Start a scheduled campaign at once; its messages go out within a minute."""
    if not campaign.can_cancel:
        raise ValidationError("This campaign has started already.")
    return start_campaign(campaign, timezone.now())


@transaction.atomic
def save_policy(**fields: Any) -> FrequencyPolicy:
    policy = FrequencyPolicy.objects.select_for_update().filter(pk=1).first()
    policy = policy or FrequencyPolicy(pk=1)
    _apply(
        policy,
        fields,
        (
            "min_days_between",
            "max_per_30_days",
            "quiet_start",
            "quiet_end",
            "attribution_days",
        ),
    )
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def mark_reconciled_sent(*, message: Message, by=None) -> bool:
    """An Owner checked with the provider: it went out."""
    if message.status != Status.RECONCILE:
        raise ValidationError("Only a message to reconcile can be marked sent.")
    return record_sent(
        message, message.provider_id or "confirmed by hand", timezone.now()
    )


@transaction.atomic
def send_again(*, message: Message, by=None) -> bool:
    """An Owner checked with the provider: it did not go out; queue it again."""
    if message.status != Status.RECONCILE:
        raise ValidationError("Only a message to reconcile can be sent again.")
    return requeue(message, f"Queued again by {by}." if by else "Queued again.")


@transaction.atomic
def unsubscribe(*, customer_id: int, channel: str, how: str) -> bool:
    """Opt the customer out of the channel now; False if they were out already.

    Recorded as a ConsentChange (when, and how: the link or the one-click POST).
    """
    customer = lock_customer(customer_id)
    if not getattr(customer, f"{channel}_opt_in"):
        return False
    try:
        with transaction.atomic():
            update_customer(
                customer=customer, consent_source=how, **{f"{channel}_opt_in": False}
            )
    except ValidationError:
        # The profile fails today's checks (old data); consent must still change.
        now = timezone.now()
        Customer.objects.filter(pk=customer.pk).update(
            **{
                f"{channel}_opt_in": False,
                f"{channel}_opt_in_at": now,
                f"{channel}_opt_in_source": how[:100],
                "updated_at": now,
            }
        )
        ConsentChange.objects.create(
            customer=customer, channel=channel, opted_in=False, source=how, at=now
        )
    return True
