"""The Owner's security pages (session limits, the two-factor requirement, login
lockouts), and everyone's own two-factor login: turning it on and off, and the
code page that follows the password once it is on."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views import View
from django.views.generic import FormView, TemplateView
from django_otp import login as otp_login

from customers.roles import OwnerRequiredMixin
from customers.views.base import add_form_errors

from . import services, two_factor
from .forms import CodeForm, SecuritySettingsForm, UnlockForm
from .lockouts import current_lockouts, unlock
from .models import SecuritySettings, two_factor_required


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
                require_two_factor=form.cleaned_data["require_two_factor"],
            )
        except ValidationError as error:
            add_form_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "The security settings were saved.")
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


class TwoFactorView(LoginRequiredMixin, TemplateView):
    """Whether two-factor login is on; POST starts setting it up. Anyone logged
    in may use it: it concerns their own login only."""

    template_name = "crm/two_factor.html"
    extra_context = {"title": "Two-factor login"}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("disable_form", CodeForm())
        return super().get_context_data(
            device=two_factor.confirmed_device(self.request.user),
            required=two_factor_required(),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        try:
            two_factor.start_two_factor(user=request.user)
        except ValidationError as error:
            messages.info(request, error.messages[0])
            return redirect("security:two-factor")
        return redirect("security:two-factor-setup")


class TwoFactorSetupView(LoginRequiredMixin, FormView):
    """The QR code and secret of the new authenticator, and its first code."""

    form_class = CodeForm
    template_name = "crm/two_factor_setup.html"
    extra_context = {"title": "Set up two-factor login"}

    def get(self, request, *args, **kwargs):
        return self.with_pending_device(super().get, request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self.with_pending_device(super().post, request, *args, **kwargs)

    def with_pending_device(self, handler, request, *args, **kwargs):
        self.device = two_factor.pending_device(request.user)
        if self.device is None:
            return redirect("security:two-factor")
        return handler(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        # reviewed: qrcode's SVG of the device's otpauth:// link is one <path> of
        # the code's squares; the link (secret, issuer, username) is only in the
        # pattern, never written into the markup as text.
        qr_code = mark_safe(two_factor.qr_code_svg(self.device))
        return super().get_context_data(
            qr_code=qr_code,
            secret=two_factor.secret_of(self.device),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            device = two_factor.confirm_two_factor(
                user=self.request.user, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form.add_error("code", error)
            return self.form_invalid(form)
        # This session has just shown a code: it counts as verified.
        otp_login(self.request, device)
        messages.success(
            self.request,
            "Two-factor login is on: from your next login on, the app's code is "
            "asked after your password.",
        )
        return redirect("security:two-factor")


class TwoFactorDisableView(LoginRequiredMixin, View):
    """Turn two-factor off, with a current code."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if two_factor.confirmed_device(request.user) is None:
            messages.info(request, "Two-factor login is off already.")
            return redirect("security:two-factor")
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                two_factor.disable_two_factor(
                    user=request.user, code=form.cleaned_data["code"]
                )
            except ValidationError as error:
                form.add_error("code", error)
            else:
                messages.success(request, "Two-factor login is off.")
                return redirect("security:two-factor")
        return render(
            request,
            TwoFactorView.template_name,
            {
                **TwoFactorView.extra_context,
                "device": two_factor.confirmed_device(request.user),
                "required": two_factor_required(),
                "disable_form": form,
            },
        )


class TwoFactorVerifyView(LoginRequiredMixin, FormView):
    """After the password: the code from the app, before any other page opens."""

    form_class = CodeForm
    template_name = "registration/two_factor_verify.html"
    extra_context = {"title": "Enter your code"}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.code_owed():
            return redirect(self.next_url())
        return super().dispatch(request, *args, **kwargs)

    def code_owed(self) -> bool:
        if not self.request.session.get(two_factor.CODE_PENDING):
            return False
        if two_factor.confirmed_device(self.request.user) is None:
            # Turned off meanwhile (by another session or an administrator).
            del self.request.session[two_factor.CODE_PENDING]
            return False
        return True

    def next_url(self) -> str:
        url = self.request.POST.get("next") or self.request.GET.get("next", "")
        if url_has_allowed_host_and_scheme(
            url,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        ):
            return url
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.next_url(), **kwargs)

    def form_valid(self, form):
        try:
            device = two_factor.verify_login_code(
                user=self.request.user, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form.add_error("code", error)
            return self.form_invalid(form)
        otp_login(self.request, device)
        del self.request.session[two_factor.CODE_PENDING]
        # A new key for the now fully logged-in session.
        self.request.session.cycle_key()
        return redirect(self.next_url())
