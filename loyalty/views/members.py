"""A member's points: the ledger page, joining, redeeming, cancelling, adjusting."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, TemplateView

from customers.roles import OwnerRequiredMixin, StaffRequiredMixin
from customers.views.base import CustomerScopedMixin

from .. import services
from ..forms import AdjustForm, RedeemForm
from ..models import Membership, PointsEntry, Redemption

LEDGER_PER_PAGE = 50


class MemberView(StaffRequiredMixin, CustomerScopedMixin, TemplateView):
    """The whole ledger of one member, newest first, with redemptions and tiers."""

    template_name = "loyalty/member_detail.html"

    def get_context_data(self, **kwargs):
        membership = (
            Membership.objects.select_related("tier", "enrolled_by")
            .filter(customer=self.customer)
            .first()
        )
        context = {"membership": membership, "today": timezone.localdate()}
        if membership is not None:
            ledger = Paginator(
                PointsEntry.objects.filter(membership=membership)
                .select_related("by", "purchase", "redemption")
                .order_by("-occurred_at", "-pk"),
                LEDGER_PER_PAGE,
            )
            context.update(
                ledger=ledger.get_page(self.request.GET.get("page")),
                redemptions=membership.redemptions.select_related("reward", "by")[:20],
                tier_changes=membership.tier_changes.all()[:20],
            )
        return super().get_context_data(**context, **kwargs)


class EnrollView(StaffRequiredMixin, CustomerScopedMixin, TemplateView):
    """GET asks for confirmation; POST makes the customer a member."""

    template_name = "loyalty/enroll_confirm.html"

    def post(self, request, *args, **kwargs):
        try:
            services.enroll(self.customer, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{self.customer} joined the loyalty program.")
        return redirect(self.customer)


class RedeemView(StaffRequiredMixin, CustomerScopedMixin, FormView):
    form_class = RedeemForm
    template_name = "customers/action_form.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Redeem a reward", **kwargs)

    def form_valid(self, form):
        return self.run_service(
            form,
            services.redeem,
            "Redeemed {result.reward.name}: give the customer code {result.code}.",
            redirect_to=lambda redemption: redemption,
            customer=self.customer,
            reward=form.cleaned_data["reward"],
        )


class AdjustView(OwnerRequiredMixin, CustomerScopedMixin, FormView):
    form_class = AdjustForm
    template_name = "customers/action_form.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(title="Adjust points", **kwargs)

    def form_valid(self, form):
        return self.run_service(
            form,
            services.adjust,
            "The points were adjusted ({result.points:+d}).",
            customer=self.customer,
            points=form.cleaned_data["points"],
            reason=form.cleaned_data["reason"],
        )


class RedemptionView(StaffRequiredMixin, DetailView):
    template_name = "loyalty/redemption_detail.html"
    context_object_name = "redemption"

    def get_queryset(self):
        return Redemption.objects.select_related(
            "reward", "membership__customer", "by", "cancelled_by"
        )


class RedemptionCancelView(StaffRequiredMixin, TemplateView):
    """GET asks for confirmation; POST gives the points back."""

    template_name = "loyalty/redemption_cancel.html"

    @cached_property
    def redemption(self) -> Redemption:
        # On first use, so after dispatch() has checked the login and the role.
        return get_object_or_404(
            Redemption.objects.select_related("reward", "membership__customer"),
            pk=self.kwargs["pk"],
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(redemption=self.redemption, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            services.cancel_redemption(self.redemption, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"Redemption {self.redemption.code} was cancelled; "
                f"{self.redemption.points} points were given back.",
            )
        return redirect(reverse("loyalty:redemption", args=[self.redemption.pk]))
