"""The Owner's form for making an API token."""

from django import forms

from customers.forms import CrispyMixin


class ApiTokenForm(CrispyMixin, forms.Form):
    submit_label = "Create token"

    name = forms.CharField(
        max_length=100,
        help_text="What will use it, e.g. “Web shop orders”. The token acts as you.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name
