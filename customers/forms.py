"""Staff forms. Each form validates input only; the views hand it to a service."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from .fields import ShortModelChoiceField, ShortModelMultipleChoiceField
from .models import (
    FUTURE_TOLERANCE,
    Customer,
    Feedback,
    Interaction,
    SavedSegment,
    Tag,
)
from .models.customer import validate_single_line

DATETIME_WIDGET = forms.DateTimeInput(
    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
)
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The longest note, interaction body or comment a form takes: a page of text.
FREE_TEXT_MAX = 10_000


def single_line(value: str) -> None:
    """Refuse line breaks and control characters (the models' rule)."""
    validate_single_line(value)


def staff_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class CrispyMixin:
    """Bootstrap 5 layout with one submit button; the template adds the <form>.

    Subclasses arrange their fields in ``crispy_layout()``. The helper is built
    when the form is first drawn, not when it is made: the customer page's
    blank forms are made on every view but drawn once (blank_forms).
    """

    submit_label = "Save"
    submit_class = "btn-primary"

    def crispy_layout(self) -> Layout | None:
        """The fields' arrangement; None lays them out one under another."""
        return None

    @cached_property
    def helper(self) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        helper.add_input(
            Submit("submit", self.submit_label, css_class=self.submit_class)
        )
        layout = self.crispy_layout()
        if layout is not None:
            helper.layout = layout
        return helper


def not_in_future(value: datetime | None, what: str) -> datetime | None:
    if value and value > timezone.now() + FUTURE_TOLERANCE:
        raise forms.ValidationError(f"{what} cannot be in the future.")
    return value


class CustomerForm(CrispyMixin, forms.ModelForm):
    """Profile and consent. Running figures and history are not editable here."""

    tags = ShortModelMultipleChoiceField(
        queryset=Tag.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    owner = ShortModelChoiceField(
        queryset=staff_users(), required=False, empty_label="Nobody"
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=FREE_TEXT_MAX,
    )

    class Meta:
        model = Customer
        fields = [*Customer.PROFILE_FIELDS, "tags", *Customer.CONSENT_FIELDS]
        widgets = {"birthday": DATE_WIDGET}

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip()

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not any(c.isdigit() for c in phone):
            raise forms.ValidationError("Enter a phone number with digits.")
        return phone


class InteractionForm(CrispyMixin, forms.Form):
    submit_label = "Log it"

    def crispy_layout(self) -> Layout:
        return Layout(
            Row(Column("kind"), Column("direction"), Column("occurred_at")),
            "subject",
            "body",
            Row(
                Column("follow_up_on"),
                Column("follow_up_assignee"),
                Column("follow_up_note"),
            ),
        )

    kind = forms.ChoiceField(choices=Interaction.Kind.choices)
    direction = forms.ChoiceField(
        choices=Interaction.Direction.choices, initial=Interaction.Direction.OUTBOUND
    )
    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Notes",
        max_length=FREE_TEXT_MAX,
    )
    occurred_at = forms.DateTimeField(
        widget=DATETIME_WIDGET,
        required=False,
        label="When",
        help_text="Leave empty for now.",
    )
    follow_up_on = forms.DateField(
        widget=DATE_WIDGET, required=False, label="Follow up on"
    )
    follow_up_assignee = ShortModelChoiceField(
        queryset=staff_users(),
        required=False,
        label="Follow-up by",
        empty_label="Me",
    )
    follow_up_note = forms.CharField(
        max_length=200, required=False, label="Follow-up note"
    )

    def clean_occurred_at(self):
        return not_in_future(self.cleaned_data.get("occurred_at"), "An interaction")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("follow_up_on") is None and (
            cleaned.get("follow_up_assignee") or cleaned.get("follow_up_note")
        ):
            self.add_error("follow_up_on", "Choose a date for the follow-up.")
        if not cleaned.get("subject") and not cleaned.get("body"):
            self.add_error("subject", "Give a subject or some notes.")
        return cleaned


class CompleteFollowUpForm(InteractionForm):
    """The interaction that did the follow-up; it may ask for another."""

    submit_label = "Log it and mark done"


class PurchaseForm(CrispyMixin, forms.Form):
    submit_label = "Record purchase"

    def crispy_layout(self) -> Layout:
        return Layout(
            Row(Column("amount"), Column("occurred_at")),
            Row(Column("reference"), Column("channel")),
        )

    amount = forms.DecimalField(min_value=Decimal("0"), max_digits=12, decimal_places=2)
    occurred_at = forms.DateTimeField(
        widget=DATETIME_WIDGET,
        required=False,
        label="When",
        help_text="Leave empty for now.",
    )
    reference = forms.CharField(
        max_length=64,
        required=False,
        help_text="Order or receipt number.",
        validators=[single_line],
    )
    channel = forms.CharField(max_length=32, required=False, validators=[single_line])

    def clean_occurred_at(self):
        return not_in_future(self.cleaned_data.get("occurred_at"), "A purchase")


class RefundForm(CrispyMixin, forms.Form):
    submit_label = "Refund"

    amount = forms.DecimalField(
        min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )


class FeedbackForm(CrispyMixin, forms.Form):
    submit_label = "Record feedback"

    kind = forms.ChoiceField(choices=Feedback.Kind.choices)
    score = forms.IntegerField(min_value=0, max_value=10)
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=FREE_TEXT_MAX,
    )

    def clean(self):
        cleaned = super().clean()
        kind, score = cleaned.get("kind"), cleaned.get("score")
        if kind and score is not None:
            low, high = Feedback.SCORE_RANGES[kind]
            if not low <= score <= high:
                self.add_error("score", f"Choose a score from {low} to {high}.")
        return cleaned


class TagForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        single_line(name)
        # The database's rule is case-insensitive too, but its message names the
        # constraint and lands above the form instead of beside the field.
        if Tag.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A tag with this name exists.")
        return name


class SegmentForm(CrispyMixin, forms.Form):
    submit_label = "Save segment"

    name = forms.CharField(max_length=100, validators=[single_line])

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if SavedSegment.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A segment with this name exists.")
        return name


class MergeForm(CrispyMixin, forms.Form):
    submit_label = "Merge"

    other = forms.ModelChoiceField(
        queryset=Customer.objects.all(),
        widget=forms.NumberInput,
        label="Customer number to merge into this one",
        help_text="The other record's history moves here; the other record is deleted.",
    )
    confirm = forms.BooleanField(
        label="I understand the other record will be deleted", required=True
    )


class EraseForm(CrispyMixin, forms.Form):
    submit_label = "Erase this customer's personal data"
    submit_class = "btn-danger"

    confirm = forms.BooleanField(
        required=True,
        label="I understand this cannot be undone: names, contact details and every "
        "note about this customer are wiped for good. Purchase amounts and dates "
        "stay, anonymous, so the figures do not change.",
    )


class ImportForm(CrispyMixin, forms.Form):
    submit_label = "Preview"

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", "Customers"
        PURCHASES = "purchases", "Purchases"
        INTERACTIONS = "interactions", "Interactions (calls, emails, notes)"

    kind = forms.ChoiceField(choices=Kind.choices, label="What the file holds")
    file = forms.FileField(
        help_text="A CSV file in UTF-8, comma- or semicolon-separated, with the "
        "column names on the first line."
    )
    create_missing = forms.BooleanField(
        required=False,
        label="Create customers the purchases file names but the CRM does not know",
    )
    replace_tags = forms.BooleanField(
        required=False,
        label="Customers file: the tags cell replaces the customer's tags",
        help_text="Without this, a tags cell adds its tags and a blank cell keeps "
        "them; with it, the cell is the whole list and a blank cell removes them.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is {upload.size // (1024 * 1024)} MB; the limit is "
                f"{limit} MB. Split it, or import it with the command line."
            )
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("Choose a .csv file.")
        return upload
