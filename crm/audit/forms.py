"""The audit trail's search form."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.fields import ReportDateField, ShortModelChoiceField

from .models import AuditEvent, AuditEventQuerySet
from .tables import AUDITED_TABLES

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditSearchForm(forms.Form):
    table = forms.ChoiceField(required=False)
    row = forms.CharField(required=False, max_length=64, label="Row id")
    customer = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, label="Customer id"
    )
    actor = ShortModelChoiceField(
        queryset=get_user_model().objects.order_by("username"),
        required=False,
        empty_label="Anyone",
        label="By",
    )
    action = forms.ChoiceField(
        required=False, choices=[("", "Any change"), *AuditEvent.Action.choices]
    )
    since = ReportDateField(required=False, widget=DATE_WIDGET, label="From")
    until = ReportDateField(required=False, widget=DATE_WIDGET, label="To")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["table"].choices = [("", "Every table")] + [
            (name, name) for name in sorted(AUDITED_TABLES)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned

    def filter(self, events: AuditEventQuerySet) -> AuditEventQuerySet:
        """The events matching the valid fields (an invalid field filters nothing)."""
        cleaned = self.cleaned_data if self.is_bound else {}
        if cleaned.get("table"):
            events = events.of_table(cleaned["table"])
        if cleaned.get("row"):
            events = events.filter(row_id=cleaned["row"].strip())
        if cleaned.get("customer"):
            events = events.of_customer(cleaned["customer"])
        if cleaned.get("actor"):
            events = events.filter(actor=cleaned["actor"])
        if cleaned.get("action"):
            events = events.filter(action=cleaned["action"])
        if cleaned.get("since") and (start := _start_of(cleaned["since"])):
            events = events.filter(at__gte=start)
        if cleaned.get("until") and (end := _start_of(cleaned["until"], 1)):
            events = events.filter(at__lt=end)
        return events


def _start_of(day: date, plus_days: int = 0) -> datetime | None:
    """Midnight at the start of the day (plus some days) in the business's time
    zone, in UTC; None for dates at the ends of the calendar, which bound nothing."""
    try:
        moment = datetime.combine(day + timedelta(days=plus_days), time.min)
        return timezone.make_aware(moment).astimezone(UTC)
    except OverflowError:
        return None
