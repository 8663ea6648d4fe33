"""The Owner's team page: the list, inviting, and one confirmation page per
change (GET asks and changes nothing; POST changes). Also the password change
everyone uses, which ends a one-time password's forced change."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.generic import FormView, ListView, TemplateView

from crm.security.login_steps import PASSWORD_CHANGE_DUE
from customers.roles import OWNER, STAFF, OwnerRequiredMixin, is_owner
from customers.views.base import add_form_errors

from . import services
from .forms import InviteForm, NewPasswordForm, ResetPasswordForm, RoleForm
from .models import team_list
from .passwords import clear_password_change_due
from .services import Delivery, PasswordHandout, name_of

MEMBERS_PER_PAGE = 50


class TeamListView(OwnerRequiredMixin, ListView):
    """Everyone who can (or could) log in, active first; `?q=` searches."""

    template_name = "crm/team_list.html"
    context_object_name = "members"
    paginate_by = MEMBERS_PER_PAGE
    extra_context = {"title": "Team"}

    def get_queryset(self):
        return team_list(self.request.GET.get("q", "")[:100])

    def get_context_data(self, **kwargs):
        q = self.request.GET.get("q", "")[:100]
        return super().get_context_data(
            q=q, querystring=urlencode({"q": q}) if q else "", **kwargs
        )


def handout_response(request, handout: PasswordHandout, *, invited: bool):
    """After a new or reset password: the one-time password, shown once (never
    stored, not even in the session for a page after a redirect), or back to
    the list with what became of the e-mail."""
    who = name_of(handout.user)
    if handout.one_time_password is not None:
        response = render(
            request,
            "crm/team_one_time_password.html",
            {
                "title": "One-time password",
                "member": handout.user,
                "password": handout.one_time_password,
                "invited": invited,
            },
        )
        add_never_cache_headers(response)  # no copy in a browser cache
        return response
    if handout.email_error:
        messages.error(
            request,
            f"The e-mail to {handout.user.email} could not be sent "
            f"({handout.email_error}). Use Reset password to send it again, or "
            "show a one-time password instead.",
        )
    else:
        done = "was added to the team" if invited else "has a new password to set"
        messages.success(
            request,
            f"{who} {done}: an e-mail with a link to set a password went to "
            f"{handout.user.email}.",
        )
    return redirect("team:list")


class TeamInviteView(OwnerRequiredMixin, FormView):
    form_class = InviteForm
    template_name = "crm/team_invite.html"
    extra_context = {"title": "Add to the team"}

    def form_valid(self, form):
        try:
            handout = services.invite_member(by=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            add_form_errors(form, error)
            return self.form_invalid(form)
        return handout_response(self.request, handout, invited=True)


class MemberActionView(OwnerRequiredMixin, TemplateView):
    """GET: what will happen, and a button; POST: do it (subclasses' act())."""

    template_name = "crm/team_confirm.html"
    # Each action's view defines it: do the change, return where to go next.
    act: Callable[[], HttpResponse]

    def dispatch(self, request, *args, **kwargs):
        if not self.test_func():
            # Refuse before the lookup: whether a user exists is not shown.
            return self.handle_no_permission()
        self.member = get_object_or_404(get_user_model(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def refusal(self) -> str:
        """Why this cannot be done now, shown instead of the button."""
        return ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            member=self.member,
            who=name_of(self.member),
            role=services.role_of(self.member),
            refusal=self.refusal(),
            cancel_url=reverse("team:list"),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        try:
            return self.act()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("team:list")


class TeamRoleView(MemberActionView):
    extra_context = {"action": "role"}

    def new_role(self) -> str:
        # Staff become Owners; Owners, and logins in neither group, Staff.
        return OWNER if services.role_of(self.member) == STAFF else STAFF

    def refusal(self) -> str:
        if self.member.is_superuser:
            return f"{name_of(self.member)} is a superuser and so always an Owner."
        if self.new_role() == STAFF:
            return services.last_owner_refusal(by=self.request.user, user=self.member)
        return ""

    def get_context_data(self, **kwargs):
        new_role = self.new_role()
        return super().get_context_data(
            title=f"Make {name_of(self.member)} {new_role}",
            new_role=new_role,
            **kwargs,
        )

    def act(self):
        form = RoleForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError("Choose Staff or Owner.")
        user = services.change_role(
            by=self.request.user, user=self.member, role=form.cleaned_data["role"]
        )
        messages.success(
            self.request, f"{name_of(user)} is {form.cleaned_data['role']} now."
        )
        if user.pk == self.request.user.pk and not is_owner(user):
            return redirect("customers:list")  # stepped down: no team page now
        return redirect("team:list")


class TeamResetPasswordView(MemberActionView):
    extra_context = {"action": "reset"}

    def refusal(self) -> str:
        if self.member.pk == self.request.user.pk:
            return "To change your own password, use Change password in your menu."
        if not self.member.is_active:
            return f"{name_of(self.member)} is deactivated: reactivate first."
        return services.superuser_refusal(by=self.request.user, user=self.member)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Reset the password of {name_of(self.member)}",
            deliveries=Delivery,
            **kwargs,
        )

    def act(self):
        form = ResetPasswordForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError("Choose how the new password is given.")
        handout = services.reset_password(
            by=self.request.user,
            user=self.member,
            delivery=form.cleaned_data["delivery"],
        )
        return handout_response(self.request, handout, invited=False)


class TeamDeactivateView(MemberActionView):
    extra_context = {"action": "deactivate"}

    def refusal(self) -> str:
        if not self.member.is_active:
            return f"{name_of(self.member)} is deactivated already."
        return services.superuser_refusal(
            by=self.request.user, user=self.member
        ) or services.last_owner_refusal(by=self.request.user, user=self.member)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Deactivate {name_of(self.member)}",
            themselves=self.member.pk == self.request.user.pk,
            **kwargs,
        )

    def act(self):
        user = services.deactivate_member(by=self.request.user, user=self.member)
        if user.pk == self.request.user.pk:
            # Their own session was just deleted: start a fresh, anonymous one.
            logout(self.request)
            return redirect("login")
        messages.success(
            self.request,
            f"{name_of(user)} is deactivated: logged out everywhere, and cannot "
            "log in.",
        )
        return redirect("team:list")


class TeamReactivateView(MemberActionView):
    extra_context = {"action": "reactivate"}

    def refusal(self) -> str:
        if self.member.is_active:
            return f"{name_of(self.member)} can log in already."
        return services.superuser_refusal(by=self.request.user, user=self.member)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Reactivate {name_of(self.member)}", **kwargs
        )

    def act(self):
        user = services.reactivate_member(by=self.request.user, user=self.member)
        messages.success(
            self.request, f"{name_of(user)} can log in again with their password."
        )
        return redirect("team:list")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change; also what ends a one-time password."""

    form_class = NewPasswordForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            change_due=bool(self.request.session.get(PASSWORD_CHANGE_DUE)), **kwargs
        )

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            clear_password_change_due(user=self.request.user)
        self.request.session.pop(PASSWORD_CHANGE_DUE, None)
        return response
