"""Who each follow-up rule makes due, as one query per rule (no loop in Python).

Each trigger gives a DueSet: a QuerySet with one row per message to write, the
row-varying columns of those messages as SQL expressions (the customer, the
unique key of the occurrence, when it happened and when it goes stale), and the
columns that are the same for every row. ``communications.planner`` turns it
into one INSERT … SELECT.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from customers.birthdays import birthday_on
from customers.models import Customer, Purchase

from .due_sets import DueSet, key_expression, local_midnight, text
from .loyalty_bridge import loyalty_audience, loyalty_due_set
from .models import FollowUpRule, Trigger


def audience(rule: FollowUpRule, prefix: str = "") -> Q:
    """Consent on the rule's channel, its tags and its loyalty conditions."""
    customer_pk = prefix.removesuffix("__") + "_id" if prefix else "pk"
    address = "email" if rule.channel == "email" else "phone"
    condition = Q(**{f"{prefix}{rule.channel}_opt_in": True}) & ~Q(
        **{f"{prefix}{address}": ""}
    )
    tag_ids = [tag.pk for tag in rule.tags.all()]
    if tag_ids:
        links = Customer.tags.through.objects.filter(
            customer_id=OuterRef(customer_pk), tag_id__in=tag_ids
        )
        condition &= Q(Exists(links))
    return condition & loyalty_audience(rule, customer_pk)


def check_in(rule: FollowUpRule, now: datetime) -> DueSet:
    """No personal contact for N days (never contacted: counted from joining);
    automated messages, this rule's own included, do not reset the clock."""
    waiting_since = Coalesce("last_contact_at", "created_at")
    queryset = (
        Customer.objects.filter(audience(rule))
        .annotate(waiting_since=waiting_since)
        .filter(waiting_since__lte=now - timedelta(days=rule.days))
    )
    return DueSet(
        queryset,
        {
            "customer_id": F("pk"),
            "key": key_expression(rule, "pk", text(TruncDate("waiting_since"))),
            "occurrence_at": F("waiting_since"),
        },
        {"due_at": now, "stale_after": now + rule.freshness},
    )


def win_back(rule: FollowUpRule, now: datetime) -> DueSet:
    """Bought before, but nothing for N days."""
    queryset = Customer.objects.filter(
        audience(rule), last_purchase_at__lte=now - timedelta(days=rule.days)
    )
    return DueSet(
        queryset,
        {
            "customer_id": F("pk"),
            "key": key_expression(rule, "pk", text(TruncDate("last_purchase_at"))),
            "occurrence_at": F("last_purchase_at"),
        },
        {"due_at": now, "stale_after": now + rule.freshness},
    )


def thank_you(rule: FollowUpRule, now: datetime) -> DueSet:
    """A purchase N days ago (at most one thank-you per customer per day)."""
    after = timedelta(days=rule.days)
    queryset = Purchase.objects.filter(
        audience(rule, "customer__"),
        occurred_at__lte=now - after,
        occurred_at__gt=now - after - rule.freshness,
        refunded_amount__lt=F("amount"),
    )
    due_at = F("occurred_at") + after
    return DueSet(
        queryset,
        {
            "customer_id": F("customer_id"),
            "key": key_expression(rule, "customer_id", text(TruncDate("occurred_at"))),
            "occurrence_at": F("occurred_at"),
            "due_at": due_at,
            "stale_after": due_at + rule.freshness,
        },
    )


def welcome(rule: FollowUpRule, now: datetime) -> DueSet:
    """Became a customer N days ago (once per customer)."""
    after = timedelta(days=rule.days)
    queryset = Customer.objects.filter(
        audience(rule),
        created_at__lte=now - after,
        created_at__gt=now - after - rule.freshness,
    )
    due_at = F("created_at") + after
    return DueSet(
        queryset,
        {
            "customer_id": F("pk"),
            "key": key_expression(rule, "pk"),
            "occurrence_at": F("created_at"),
            "due_at": due_at,
            "stale_after": due_at + rule.freshness,
        },
    )


def birthday(rule: FollowUpRule, now: datetime) -> DueSet:
    """Birthday in N days; yesterday's are caught up (within the freshness)."""
    today = timezone.localdate(now)
    sends = [today, today - timedelta(days=1)]  # today's first: it wins the Case
    whens = [(send, send + timedelta(days=rule.days)) for send in sends]
    condition = Q()
    for _, day in whens:
        condition |= birthday_on(day)
    queryset = Customer.objects.filter(audience(rule)).filter(condition)

    def case(value_of, output_field):
        return Case(
            *[
                When(birthday_on(day), then=Value(value_of(send, day)))
                for send, day in whens
            ],
            output_field=output_field,
        )

    return DueSet(
        queryset,
        {
            "customer_id": F("pk"),
            "key": key_expression(
                rule, "pk", case(lambda send, day: str(day.year), CharField())
            ),
            "occurrence_at": case(
                lambda send, day: local_midnight(day), DateTimeField()
            ),
            "due_at": case(lambda send, day: local_midnight(send), DateTimeField()),
            "stale_after": case(
                lambda send, day: (
                    local_midnight(send) + timedelta(days=1) + rule.freshness
                ),
                DateTimeField(),
            ),
        },
    )


BUILDERS = {
    Trigger.CHECK_IN: check_in,
    Trigger.WIN_BACK: win_back,
    Trigger.THANK_YOU: thank_you,
    Trigger.WELCOME: welcome,
    Trigger.BIRTHDAY: birthday,
}


def due_set(rule: FollowUpRule, now: datetime) -> DueSet | None:
    """The rule's due set now; None for triggers the planner does not poll."""
    builder = BUILDERS.get(rule.trigger)
    if builder is not None:
        return builder(rule, now)
    return loyalty_due_set(rule, now, audience=audience, key=key_expression)
