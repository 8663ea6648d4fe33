"""My follow-ups, and completing one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView

from .. import services
from ..forms import CompleteFollowUpForm
from ..models import FollowUp
from ..roles import StaffRequiredMixin
from .base import add_form_errors

# Per section of "my follow-ups": the oldest first, so nothing overdue hides.
FOLLOW_UPS_SHOWN = 50


class FollowUpListView(StaffRequiredMixin, TemplateView):
    """The signed-in user's open follow-ups: overdue, due today, coming up."""

    template_name = "customers/followup_list.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        mine = (
            FollowUp.objects.open()
            .assigned_to(self.request.user)
            .select_related("customer", "origin")
        )
        overdue = mine.filter(due_on__lt=today)
        return super().get_context_data(
            today=today,
            overdue=overdue[:FOLLOW_UPS_SHOWN],
            overdue_count=overdue.count(),
            due_today=mine.filter(due_on=today)[:FOLLOW_UPS_SHOWN],
            upcoming=mine.filter(due_on__gt=today)[:FOLLOW_UPS_SHOWN],
            shown=FOLLOW_UPS_SHOWN,
            **kwargs,
        )


class FollowUpCompleteView(StaffRequiredMixin, FormView):
    form_class = CompleteFollowUpForm
    template_name = "customers/action_form.html"

    @cached_property
    def follow_up(self) -> FollowUp:
        # On first use, so after dispatch() has checked the login and the role.
        return get_object_or_404(
            FollowUp.objects.select_related("customer"), pk=self.kwargs["pk"]
        )

    def get_initial(self):
        return {"subject": self.follow_up.note or f"Follow-up: {self.follow_up.origin}"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Complete the follow-up with {self.follow_up.customer}",
            customer=self.follow_up.customer,
            **kwargs,
        )

    def form_valid(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            services.complete_follow_up(
                follow_up=self.follow_up, by=self.request.user, **data
            )
        except services.FollowUpAlreadyDone:
            messages.info(self.request, "That follow-up was already done.")
            return redirect("customers:follow-ups")
        except ValidationError as error:
            add_form_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "Done: the interaction was logged.")
        return redirect("customers:follow-ups")
