"""The Owner's security forms."""

from __future__ import annotations

from django import forms

from customers.forms import CrispyMixin

from .models import SecuritySettings


class SecuritySettingsForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = SecuritySettings
        fields = [
            "idle_timeout_minutes",
            "absolute_timeout_hours",
            "require_two_factor",
        ]


class UnlockForm(forms.Form):
    """Which lockout to lift: sent by the Unlock button beside it."""

    kind = forms.ChoiceField(
        choices=[("username", "Account"), ("ip_address", "Address")]
    )
    value = forms.CharField(max_length=255, strip=False)


class CodeForm(forms.Form):
    """A 6-digit code from an authenticator app (spaces allowed, as apps show)."""

    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise forms.ValidationError("Enter the 6 digits the app shows.")
        return code
