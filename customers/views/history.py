"""Recording what happened: interactions, purchases, refunds and feedback."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import FormView

from .. import services
from ..forms import FeedbackForm, InteractionForm, PurchaseForm, RefundForm
from ..models import Purchase
from ..roles import StaffRequiredMixin
from .base import CustomerScopedMixin


class InteractionCreateView(StaffRequiredMixin, CustomerScopedMixin, FormView):
    form_class = InteractionForm
    template_name = "customers/action_form.html"
    extra_context = {"title": "Log an interaction"}

    def form_valid(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        return self.run_service(
            form,
            services.log_interaction,
            "The interaction was logged.",
            customer=self.customer,
            **data,
        )


class PurchaseCreateView(StaffRequiredMixin, CustomerScopedMixin, FormView):
    form_class = PurchaseForm
    template_name = "customers/action_form.html"
    extra_context = {"title": "Record a purchase"}

    def form_valid(self, form):
        data = form.cleaned_data
        return self.run_service(
            form,
            self.record,
            "{result}",
            customer=self.customer,
            amount=data["amount"],
            occurred_at=data["occurred_at"] or timezone.now(),
            reference=data["reference"],
            channel=data["channel"],
        )

    @staticmethod
    def record(**purchase) -> str:
        """Record it; what the page then says."""
        _, created = services.record_purchase(**purchase)
        if created:
            return "The purchase was recorded."
        return (
            "This order number was recorded already, for this customer and "
            "amount: nothing changed."
        )


class PurchaseRefundView(StaffRequiredMixin, CustomerScopedMixin, FormView):
    stores_about_customer = False  # a refund changes amounts, not personal data
    form_class = RefundForm
    template_name = "customers/action_form.html"

    @cached_property
    def purchase(self) -> Purchase:
        # On first use, so after dispatch() has checked the login and the role.
        return get_object_or_404(
            Purchase, pk=self.kwargs["purchase_pk"], customer_id=self.kwargs["pk"]
        )

    def get_initial(self):
        return {"amount": self.purchase.net_amount}

    def get_context_data(self, **kwargs):
        title = (
            f"Refund the purchase of {self.purchase.amount} {self.purchase.currency}"
        )
        return super().get_context_data(title=title, purchase=self.purchase, **kwargs)

    def form_valid(self, form):
        return self.run_service(
            form,
            services.refund_purchase,
            "The refund was recorded.",
            purchase=self.purchase,
            amount=form.cleaned_data["amount"],
        )


class FeedbackCreateView(StaffRequiredMixin, CustomerScopedMixin, FormView):
    form_class = FeedbackForm
    template_name = "customers/action_form.html"
    extra_context = {"title": "Record feedback"}

    def form_valid(self, form):
        return self.run_service(
            form,
            services.record_feedback,
            "The feedback was recorded.",
            customer=self.customer,
            **form.cleaned_data,
        )
