"""The planner: writes the messages that rules and campaigns make due.

Beat runs it every few minutes. Each rule's due customers are selected in the
database and written with one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` on
the message's unique key, so running it again (or twice at once) writes
nothing new. Nothing is queued on Celery here: the dispatcher picks up what is
due from the table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from customers.filters import segment_customers
from customers.models import Customer

from .due_sets import DueSet, text
from .models import (
    CAMPAIGN_FRESHNESS,
    CAMPAIGN_TRIGGER,
    Campaign,
    FollowUpRule,
    FrequencyPolicy,
    Message,
    Status,
)
from .pacing import next_open
from .triggers import due_set

logger = logging.getLogger(__name__)


@dataclass
class PlanResult:
    created: dict[str, int] = field(default_factory=dict)  # rule or campaign -> rows

    @property
    def total(self) -> int:
        return sum(self.created.values())


def _column_defaults(now: datetime) -> dict[str, object]:
    defaults = {}
    for model_field in Message._meta.concrete_fields:
        if model_field.primary_key:
            continue
        value = model_field.get_default()
        defaults[model_field.attname] = value
    defaults.update(status=Status.QUEUED, created_at=now, attempts=0)
    return defaults


def insert_messages(due: DueSet, constants: dict[str, object], now: datetime) -> int:
    """Write one message per row of the due set; rows whose key exists are skipped.

    The row-varying columns come from the due set's SELECT; the constants are
    parameters of the outer SELECT, adapted by each field for the database.
    """
    values = {**_column_defaults(now), **constants, **due.constants}
    inner_sql, inner_params = due.annotated().query.sql_with_params()
    quote = connection.ops.quote_name
    columns, selects, params = [], [], []
    for model_field in Message._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(quote(model_field.column))
        name = model_field.attname
        if name in due.columns:
            selects.append(f"due.{quote('m_' + name)}")
        else:
            selects.append("%s")
            params.append(model_field.get_db_prep_save(values[name], connection))
    # Rows sharing a key (two purchases on one day) are inserted in the order
    # they happened, so the first one's message is the one kept, every time.
    order = ", ".join(
        f"due.{quote('m_' + name)}"
        for name in ("occurrence_at", "customer_id")
        if name in due.columns
    )
    # "WHERE 1=1": SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT.
    sql = (
        f"INSERT INTO {quote(Message._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} FROM ({inner_sql}) due WHERE 1=1 "
        + (f"ORDER BY {order} " if order else "")
        + "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params])
        return max(cursor.rowcount, 0)


def plan_rule(rule: FollowUpRule, now: datetime, policy: FrequencyPolicy) -> int:
    due = due_set(rule, now)
    if due is None:
        return 0
    constants = {
        "rule_id": rule.pk,
        "template_id": rule.template_id,
        "trigger": rule.trigger,
        "channel": rule.channel,
        "priority": rule.priority,
        "scheduled_for": next_open(policy, now),
    }
    with transaction.atomic():
        return insert_messages(due, constants, now)


def campaign_audience(campaign: Campaign):
    """The customers a campaign goes to now: its segment (or everyone) who consented."""
    if campaign.everyone:
        customers = Customer.objects.all()
    elif campaign.segment_id is not None:
        customers = segment_customers(campaign.segment)
    else:
        return Customer.objects.none()
    return customers.opted_in(campaign.template.channel)


@transaction.atomic
def start_campaign(
    campaign: Campaign, now: datetime, policy: FrequencyPolicy | None = None
) -> int:
    """Write the campaign's messages once; refuses a campaign already started."""
    locked = (
        Campaign.objects.select_for_update(of=("self",), no_key=True)
        .select_related("template", "segment")
        .filter(pk=campaign.pk, status=Campaign.Status.SCHEDULED)
        .first()
    )
    if locked is None:
        return 0
    policy = policy or FrequencyPolicy.current()
    if not locked.everyone and locked.segment_id is None:
        locked.status = Campaign.Status.CANCELLED
        locked.cancelled_at = now
        locked.note = "Not sent: its segment was deleted."
        locked.save(update_fields=["status", "cancelled_at", "note"])
        return 0
    due = DueSet(
        campaign_audience(locked),
        {
            "customer_id": F("pk"),
            "key": Concat(Value(f"campaign:{locked.pk}:"), text(F("pk"))),
        },
    )
    created = insert_messages(
        due,
        {
            "campaign_id": locked.pk,
            "template_id": locked.template_id,
            "trigger": CAMPAIGN_TRIGGER,
            "channel": locked.template.channel,
            "priority": locked.priority,
            "due_at": now,
            "scheduled_for": next_open(policy, now),
            "stale_after": now + CAMPAIGN_FRESHNESS,
        },
        now,
    )
    locked.status = Campaign.Status.STARTED
    locked.started_at = now
    locked.recipients = created
    locked.save(update_fields=["status", "started_at", "recipients"])
    return created


def plan_outreach(now: datetime | None = None) -> PlanResult:
    """Write every message that active rules and due campaigns call for."""
    now = now or timezone.now()
    policy = FrequencyPolicy.current()
    result = PlanResult()
    rules = FollowUpRule.objects.active().by_priority().prefetch_related("tags")
    for rule in rules:
        result.created[f"rule {rule.pk} {rule.name}"] = plan_rule(rule, now, policy)
    for campaign in Campaign.objects.due(now).order_by("send_at", "pk"):
        created = start_campaign(campaign, now, policy)
        result.created[f"campaign {campaign.pk} {campaign.name}"] = created
    logger.info("Planned %d messages: %s", result.total, result.created)
    return result
