"""Customer pages: the lists, one customer, adding, editing and merging."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Avg, Q
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, FormView, ListView

from .. import services
from ..filters import FILTER_FIELDS, list_customers
from ..forms import (
    CustomerForm,
    FeedbackForm,
    InteractionForm,
    MergeForm,
    PurchaseForm,
    SegmentForm,
)
from ..models import Customer, Feedback, FollowUp, SavedSegment
from ..roles import OwnerRequiredMixin, StaffRequiredMixin
from ..timeline import Timeline
from ..wiring import panels_for
from .base import (
    TIMELINE_PER_PAGE,
    CustomerPageMixin,
    CustomerScopedMixin,
    ServiceFormMixin,
)


class CustomerListView(StaffRequiredMixin, CustomerPageMixin, ListView):
    template_name = "customers/customer_list.html"
    context_object_name = "customers"
    title = "Customers"

    def get_params(self) -> QueryDict:
        return self.request.GET

    def get_queryset(self):
        self.filter_form, queryset = list_customers(self.get_params())
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        filters = {k: v for k, v in params.items() if k in FILTER_FIELDS and v}
        segment_id = params.get("segment", "")
        mine = params.get("owner") == str(self.request.user.pk)
        context.update(
            title="My customers" if mine else self.title,
            filter_form=self.filter_form,
            querystring=params.urlencode(),
            filters_active=bool(filters),
            segment_form=SegmentForm(),
            segment=SavedSegment.objects.filter(pk=segment_id).first()
            if segment_id.isdigit()
            else None,
        )
        return context


class NeedsFollowUpView(StaffRequiredMixin, CustomerPageMixin, ListView):
    """Customers nobody has contacted for N days, longest-waiting first."""

    template_name = "customers/needs_follow_up.html"
    context_object_name = "customers"

    def get_days(self) -> int:
        try:
            days = int(self.request.GET.get("days", settings.FOLLOW_UP_AFTER_DAYS))
        except ValueError:
            days = settings.FOLLOW_UP_AFTER_DAYS
        return min(max(days, 1), 3650)

    def get_queryset(self):
        return Customer.objects.needs_follow_up(self.get_days()).for_list()

    def get_context_data(self, **kwargs):
        days = self.get_days()
        return super().get_context_data(days=days, querystring=f"days={days}", **kwargs)


class CustomerDetailView(StaffRequiredMixin, DetailView):
    template_name = "customers/customer_detail.html"
    context_object_name = "customer"

    def get_object(self, queryset=None):
        customer = get_object_or_404(
            Customer.objects.select_related("owner", "erasure__by"),
            pk=self.kwargs["pk"],
        )
        customer.tag_names = list(
            customer.tags.order_by("name").values_list("name", flat=True)
        )
        return customer

    def get_context_data(self, **kwargs):
        customer = self.object
        timeline = Paginator(Timeline(customer), TIMELINE_PER_PAGE)
        scores = Feedback.objects.filter(customer=customer).aggregate(
            csat=Avg("score", filter=Q(kind=Feedback.Kind.CSAT)),
            nps=Avg("score", filter=Q(kind=Feedback.Kind.NPS)),
        )
        return super().get_context_data(
            timeline=timeline.get_page(self.request.GET.get("page")),
            average_csat=scores["csat"],
            average_nps=scores["nps"],
            days_since_contact=customer.days_since_last_contact(),
            open_follow_ups=FollowUp.objects.filter(customer=customer)
            .open()
            .select_related("assignee"),
            interaction_form=InteractionForm(),
            purchase_form=PurchaseForm(),
            feedback_form=FeedbackForm(),
            panels=panels_for(self.request, customer),
            # Selected with the customer (a reverse one-to-one): no extra query.
            erasure=getattr(customer, "erasure", None),
            **kwargs,
        )


class CustomerCreateView(StaffRequiredMixin, ServiceFormMixin, FormView):
    form_class = CustomerForm
    template_name = "customers/customer_form.html"
    extra_context = {"title": "Add a customer"}

    def form_valid(self, form):
        return self.call_service(
            form,
            services.create_customer,
            message="{result} was added.",
            redirect_to=lambda customer: customer,
            by=self.request.user,
            **form.cleaned_data,
        )


class CustomerUpdateView(StaffRequiredMixin, CustomerScopedMixin, FormView):
    form_class = CustomerForm
    template_name = "customers/customer_form.html"

    def get_form_kwargs(self):
        # A copy: a failed save must not leave the form's instance half-changed.
        instance = Customer.objects.get(pk=self.customer.pk)
        return {**super().get_form_kwargs(), "instance": instance}

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Edit {self.customer}", **kwargs)

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        tags = data.pop("tags")
        return self.run_service(
            form,
            services.update_customer,
            f"{self.customer} was updated.",
            customer=self.customer,
            tags=tags,
            **data,
        )


class CustomerMergeView(OwnerRequiredMixin, CustomerScopedMixin, FormView):
    """Owners merge a duplicate record into this one, after confirming."""

    form_class = MergeForm
    template_name = "customers/action_form.html"
    extra_context = {"title": "Merge a duplicate into this customer"}

    def form_valid(self, form):
        other = form.cleaned_data["other"]
        return self.run_service(
            form,
            services.merge_customers,
            "The duplicate's history was merged into {result}.",
            keep=self.customer,
            merge=other,
        )
