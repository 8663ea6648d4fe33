"""The Owner's security forms."""

from __future__ import annotations

from django import forms

from customers.forms import CrispyMixin

from .models import SecuritySettings


class SecuritySettingsForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = SecuritySettings
        fields = ["idle_timeout_minutes", "absolute_timeout_hours"]


class UnlockForm(forms.Form):
    """Which lockout to lift: sent by the Unlock button beside it."""

    kind = forms.ChoiceField(
        choices=[("username", "Account"), ("ip_address", "Address")]
    )
    value = forms.CharField(max_length=255, strip=False)
