"""The Owner's security pages: session limits and login lockouts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView, TemplateView

from customers.roles import OwnerRequiredMixin
from customers.views.base import add_form_errors

from . import services
from .forms import SecuritySettingsForm, UnlockForm
from .lockouts import current_lockouts, unlock
from .models import SecuritySettings


class SecuritySettingsView(OwnerRequiredMixin, FormView):
    form_class = SecuritySettingsForm
    template_name = "crm/security_settings.html"
    extra_context = {"title": "Security"}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": SecuritySettings.load()}

    def form_valid(self, form):
        try:
            services.update_security_settings(
                by=self.request.user,
                idle_timeout_minutes=form.cleaned_data["idle_timeout_minutes"],
                absolute_timeout_hours=form.cleaned_data["absolute_timeout_hours"],
            )
        except ValidationError as error:
            add_form_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "The session limits were saved.")
        return redirect("security:settings")


class LockoutListView(OwnerRequiredMixin, TemplateView):
    """Accounts and addresses locked out after failed logins, each unlockable."""

    template_name = "crm/lockout_list.html"
    extra_context = {"title": "Login lockouts"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(lockouts=current_lockouts(), **kwargs)


class LockoutUnlockView(OwnerRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = UnlockForm(request.POST)
        if not form.is_valid():
            messages.error(request, "That lockout could not be found.")
            return redirect("security:lockouts")
        removed = unlock(
            kind=form.cleaned_data["kind"], value=form.cleaned_data["value"]
        )
        if removed:
            messages.success(request, f"{form.cleaned_data['value']} can log in again.")
        else:
            messages.info(request, "Nothing to unlock: the lockout had ended.")
        return redirect("security:lockouts")
