"""Owner forms for outreach. Each validates input; the views call services."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.db.models import Q
from django.utils import timezone

from customers.fields import ShortModelChoiceField, ShortModelMultipleChoiceField
from customers.forms import DATE_WIDGET, DATETIME_WIDGET, CrispyMixin
from customers.models import Customer, SavedSegment, Tag
from loyalty.models import Tier

from .models import (
    Campaign,
    Channel,
    FollowUpRule,
    FrequencyPolicy,
    MessageTemplate,
    Status,
)
from .models.messages import TRIGGER_CHOICES
from .rendering import VARIABLES
from .services import PAST_TOLERANCE

VARIABLE_HELP = "Variables: " + ", ".join(
    f"{{{{ {name} }}}} ({meaning})" for name, meaning in VARIABLES.items()
)
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class TemplateForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "channel", "subject", "body_text", "body_html"]
        widgets = {
            "body_text": forms.Textarea(attrs={"rows": 8}),
            "body_html": forms.Textarea(attrs={"rows": 6}),
        }
        help_texts = {"body_text": VARIABLE_HELP}


class RuleForm(CrispyMixin, forms.ModelForm):
    template = ShortModelChoiceField(queryset=MessageTemplate.objects.all())
    tags = ShortModelMultipleChoiceField(
        queryset=Tag.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only customers with any of these tags (none: everyone).",
    )
    tier = ShortModelChoiceField(
        queryset=Tier.objects.all(),
        required=False,
        empty_label="Any tier",
        help_text="Only members in this tier (for “tier reached”: reaching it).",
    )
    priority = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=1000,
        help_text="Lower goes first when several messages are due for a customer. "
        "Empty: the trigger's usual place.",
    )

    class Meta:
        model = FollowUpRule
        fields = [
            "name",
            "trigger",
            "days",
            "channel",
            "template",
            "tags",
            "membership",
            "tier",
            "priority",
            "active",
        ]


class CampaignForm(CrispyMixin, forms.ModelForm):
    template = ShortModelChoiceField(queryset=MessageTemplate.objects.all())
    segment = ShortModelChoiceField(
        queryset=SavedSegment.objects.all(),
        required=False,
        empty_label="(no segment)",
        help_text="Who receives it (those who consented to the template's channel).",
    )
    send_at = forms.DateTimeField(widget=DATETIME_WIDGET, label="Send at")

    class Meta:
        model = Campaign
        fields = ["name", "template", "segment", "everyone", "send_at", "priority"]

    def clean_send_at(self):
        send_at = self.cleaned_data["send_at"]
        if send_at < timezone.now() - PAST_TOLERANCE:
            raise forms.ValidationError("Choose a time in the future.")
        return send_at

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("everyone") and cleaned.get("segment"):
            self.add_error("segment", "Choose a segment or everyone, not both.")
        elif not cleaned.get("everyone") and not cleaned.get("segment"):
            self.add_error("segment", "Choose a segment, or send to everyone.")
        return cleaned


class PolicyForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = FrequencyPolicy
        fields = [
            "min_days_between",
            "max_per_30_days",
            "quiet_start",
            "quiet_end",
            "attribution_days",
        ]
        widgets = {"quiet_start": TIME_WIDGET, "quiet_end": TIME_WIDGET}


class CustomerChoiceField(forms.CharField):
    """A customer by id, email or reference (there may be 100,000 to choose from)."""

    def clean(self, value):
        value = super().clean(value).strip()
        if not value:
            return None
        condition = Q(email__iexact=value) | Q(reference=value)
        if value.isdigit():
            condition |= Q(pk=int(value))
        customer = Customer.objects.filter(condition).first()
        if customer is None:
            raise forms.ValidationError("No customer has this id, email or reference.")
        return customer


class PreviewForm(forms.Form):
    customer = CustomerChoiceField(
        required=False,
        label="Preview for customer",
        help_text="An id, email or reference; empty: example values.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.add_input(Submit("preview", "Preview", css_class="btn-secondary"))


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Status.choices]
    )
    trigger = forms.ChoiceField(
        required=False, choices=[("", "Any trigger"), *TRIGGER_CHOICES]
    )
    rule = ShortModelChoiceField(
        queryset=FollowUpRule.objects.all(), required=False, empty_label="Any rule"
    )
    campaign = ShortModelChoiceField(
        queryset=Campaign.objects.all(), required=False, empty_label="Any campaign"
    )
    channel = forms.ChoiceField(
        required=False, choices=[("", "Any channel"), *Channel.choices]
    )
    date_from = forms.DateField(required=False, widget=DATE_WIDGET, label="From")
    date_to = forms.DateField(required=False, widget=DATE_WIDGET, label="To")
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
