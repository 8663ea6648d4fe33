"""The dashboard's choices: which period, as of when, and the Owner's settings."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.conf import settings

from crm.metrics.facts import Plan
from crm.metrics.periods import (
    MetricsInputError,
    PeriodKind,
    business_today,
    choose_period,
)
from crm.metrics.report import default_as_of
from customers.fields import ReportDateField


class DashboardForm(forms.Form):
    """Read from the query string; every field has a default, so no input is fine."""

    period = forms.ChoiceField(
        choices=PeriodKind.CHOICES, required=False, initial=PeriodKind.MONTH
    )
    as_of = ReportDateField(
        label="As of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Data up to the end of this day (default: yesterday).",
    )
    start = ReportDateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Custom period only.",
    )
    end = ReportDateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Custom period only.",
    )
    window = forms.IntegerField(
        label="Active window (days)",
        required=False,
        min_value=7,
        max_value=3650,
        help_text="Active = an occasion within this many days.",
    )
    contact_days = forms.IntegerField(
        label="No contact for (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="For the at-risk list.",
    )

    def __init__(self, *args, today: date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or business_today()
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_tag = True
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("period", css_class="col-md-2"),
                Column("as_of", css_class="col-md-2"),
                Column("start", css_class="col-md-2"),
                Column("end", css_class="col-md-2"),
                Column("window", css_class="col-md-2"),
                Column("contact_days", css_class="col-md-2"),
            ),
            Submit("show", "Show", css_class="btn-primary"),
        )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        kind = cleaned.get("period") or PeriodKind.MONTH
        start, end = cleaned.get("start"), cleaned.get("end")
        as_of = cleaned.get("as_of")
        if kind != PeriodKind.CUSTOM and (start or end):
            kind = PeriodKind.CUSTOM
        if kind != PeriodKind.CUSTOM and as_of is None:
            as_of = default_as_of()
        try:
            period, as_of = choose_period(
                kind=kind, as_of=as_of, start=start, end=end, today=self.today
            )
        except MetricsInputError as error:
            self.add_error(
                error.field if error.field in self.fields else None, str(error)
            )
            return cleaned
        cleaned["plan"] = Plan(
            period,
            as_of,
            window_days=cleaned.get("window")
            or settings.DASHBOARD_ACTIVITY_WINDOW_DAYS,
        )
        cleaned["contact_days"] = (
            cleaned.get("contact_days") or settings.FOLLOW_UP_AFTER_DAYS
        )
        return cleaned

    @property
    def plan(self) -> Plan:
        return self.cleaned_data["plan"]

    def query_string(self) -> str:
        """The choices as a query string, for links to lists and downloads."""
        plan = self.plan
        parts = {
            "period": plan.period.kind,
            "as_of": plan.as_of.isoformat(),
            "window": plan.window_days,
            "contact_days": self.cleaned_data["contact_days"],
        }
        if plan.period.kind == PeriodKind.CUSTOM:
            parts.update(start=plan.period.first, end=plan.period.last)
        return urlencode(parts)
