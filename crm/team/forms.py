"""The team page's forms, and the password change that refuses the old one."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.validators import UnicodeUsernameValidator

from customers.forms import CrispyMixin
from customers.roles import OWNER, STAFF

from .services import Delivery

ROLE_CHOICES = [(STAFF, "Staff"), (OWNER, "Owner")]


class InviteForm(CrispyMixin, forms.Form):
    submit_label = "Add to the team"

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(label="E-mail", max_length=254)
    username = forms.CharField(
        max_length=150,
        required=False,
        validators=[UnicodeUsernameValidator()],
        help_text="What they type to log in. Leave empty to use the e-mail address.",
    )
    role = forms.ChoiceField(
        choices=ROLE_CHOICES,
        initial=STAFF,
        widget=forms.RadioSelect,
        help_text="Staff serve customers; Owners also run the business settings, "
        "the team and the admin.",
    )
    delivery = forms.ChoiceField(
        label="Their password",
        choices=Delivery.choices,
        initial=Delivery.LINK,
        widget=forms.RadioSelect,
        help_text="A one-time password must be changed at the first login.",
    )


class ResetPasswordForm(forms.Form):
    """Which way the new password goes: the button pressed."""

    delivery = forms.ChoiceField(choices=Delivery.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class NewPasswordForm(PasswordChangeForm):
    """Django's password change, refusing the current password as the new one
    (a one-time password must really be replaced)."""

    def clean(self):
        cleaned = super().clean()
        new = cleaned.get("new_password2")
        if new and self.user.check_password(new):
            self.add_error(
                "new_password2", "Choose a password different from the current one."
            )
        return cleaned
