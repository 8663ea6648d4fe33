"""Loyalty forms: each validates input only; the views hand it to a service."""

from __future__ import annotations

from datetime import timedelta

from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone

from customers.fields import ReportDateField
from customers.forms import CrispyMixin

from .models import Program, Reward, Tier


class ProgramForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "name",
            "is_active",
            "earn_rate",
            "point_value",
            "welcome_bonus",
            "birthday_bonus",
            "expiry_months",
            "pending_days",
            "auto_enroll",
            "tier_basis",
        ]

    def crispy_layout(self) -> Layout:
        return Layout(
            "name",
            "is_active",
            Row(Column("earn_rate"), Column("point_value")),
            Row(Column("welcome_bonus"), Column("birthday_bonus")),
            Row(Column("expiry_months"), Column("pending_days")),
            "auto_enroll",
            "tier_basis",
        )


class TierForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Tier
        fields = ["name", "threshold", "multiplier", "perks"]
        widgets = {"perks": forms.Textarea(attrs={"rows": 3})}


class RewardForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Reward
        fields = ["name", "description", "cost", "stock", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


def reward_label(reward: Reward) -> str:
    stock = "" if reward.stock is None else f", {reward.stock} left"
    return f"{reward.name} ({reward.cost} points{stock})"


class RedeemForm(CrispyMixin, forms.Form):
    """Choose one of the rewards on offer (read once, for the select and the check)."""

    submit_label = "Redeem"

    reward = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, rewards=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if rewards is None:
            rewards = Reward.objects.available()
        self.rewards = {reward.pk: reward for reward in rewards}
        self.fields["reward"].choices = [("", "Choose a reward")] + [
            (pk, reward_label(reward)) for pk, reward in self.rewards.items()
        ]

    def clean_reward(self) -> Reward:
        return self.rewards[self.cleaned_data["reward"]]


class AdjustForm(CrispyMixin, forms.Form):
    submit_label = "Adjust"

    points = forms.IntegerField(
        help_text="Positive to add, negative to take away (not 0)."
    )
    reason = forms.CharField(
        max_length=255, help_text="Required: it is kept in the member's ledger."
    )

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError("Enter a number of points other than 0.")
        return points


class OpeningBalancesForm(CrispyMixin, forms.Form):
    submit_label = "Check and import"

    file = forms.FileField(
        help_text="CSV with columns customer, points, earned_at, expires_at."
    )
    dry_run = forms.BooleanField(
        required=False,
        initial=True,
        label="Only check (dry run): show what would happen, write nothing",
    )


PERIOD_WIDGET = forms.DateInput(
    attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"
)


class PeriodForm(forms.Form):
    """The overview's period: both days included; the last 30 days by default."""

    start = ReportDateField(required=False, widget=PERIOD_WIDGET)
    end = ReportDateField(required=False, widget=PERIOD_WIDGET)

    def period(self):
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=29)
        if start > end:
            start, end = end, start
        return start, end
