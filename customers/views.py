"""Staff pages. Thin: forms validate, services change state, querysets read."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Q
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, ListView, TemplateView

from . import services
from .filters import FILTER_FIELDS, CustomerFilterForm, list_customers
from .forms import (
    CompleteFollowUpForm,
    CustomerForm,
    FeedbackForm,
    InteractionForm,
    MergeForm,
    PurchaseForm,
    RefundForm,
    SegmentForm,
    TagForm,
)
from .models import (
    Customer,
    Feedback,
    FollowUp,
    Purchase,
    SavedSegment,
    Tag,
    attach_tag_names,
)
from .roles import OwnerRequiredMixin, StaffRequiredMixin
from .timeline import Timeline

CUSTOMERS_PER_PAGE = 50
TIMELINE_PER_PAGE = 25
# Per section of "my follow-ups": the oldest first, so nothing overdue hides.
FOLLOW_UPS_SHOWN = 50


def add_form_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError beside the form's matching fields."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


class CustomerPageMixin:
    """Pages of customers, each page's tags read with one query."""

    paginate_by = CUSTOMERS_PER_PAGE

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, has_other_pages = super().paginate_queryset(
            queryset, page_size
        )
        page.object_list = attach_tag_names(list(page.object_list))
        return paginator, page, page.object_list, has_other_pages


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
            customer_url_prefix=reverse("customers:list"),
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

    def get_queryset(self):
        return Customer.objects.select_related("owner").prefetch_related("tags")

    def get_context_data(self, **kwargs):
        customer = self.object
        timeline = Paginator(Timeline(customer), TIMELINE_PER_PAGE)
        scores = customer.feedback.aggregate(
            csat=Avg("score", filter=Q(kind=Feedback.Kind.CSAT)),
            nps=Avg("score", filter=Q(kind=Feedback.Kind.NPS)),
        )
        return super().get_context_data(
            timeline=timeline.get_page(self.request.GET.get("page")),
            average_csat=scores["csat"],
            average_nps=scores["nps"],
            days_since_contact=customer.days_since_last_contact(),
            open_follow_ups=customer.follow_ups.open().select_related("assignee"),
            interaction_form=InteractionForm(),
            purchase_form=PurchaseForm(),
            feedback_form=FeedbackForm(),
            **kwargs,
        )


class ServiceFormMixin:
    """form_valid hands the cleaned data to a service function.

    A ValidationError from the service goes back to the form beside the matching
    fields (nothing was stored: each service runs in one transaction); success
    adds a message and redirects.
    """

    def call_service(self, form, service, *, message: str, redirect_to=None, **kwargs):
        """`message` may name {result}; `redirect_to` is a URL, a model, a URL
        name, or a function of the service's result (default: success URL)."""
        try:
            result = service(**kwargs)
        except ValidationError as error:
            add_form_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, message.format(result=result))
        if callable(redirect_to):
            redirect_to = redirect_to(result)
        return redirect(redirect_to or self.get_success_url())


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


class CustomerScopedMixin(ServiceFormMixin):
    """Loads the customer named in the URL as self.customer."""

    def dispatch(self, request, *args, **kwargs):
        self.customer = get_object_or_404(Customer, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, **kwargs)

    def get_success_url(self) -> str:
        return self.customer.get_absolute_url()

    def run_service(self, form, service, success_message: str, **kwargs):
        """Call the service for this customer's page, as the signed-in user."""
        return self.call_service(
            form, service, message=success_message, by=self.request.user, **kwargs
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
            services.record_purchase,
            "The purchase was recorded.",
            customer=self.customer,
            amount=data["amount"],
            occurred_at=data["occurred_at"] or timezone.now(),
            reference=data["reference"],
            channel=data["channel"],
        )


class PurchaseRefundView(StaffRequiredMixin, CustomerScopedMixin, FormView):
    form_class = RefundForm
    template_name = "customers/action_form.html"

    @cached_property
    def purchase(self) -> Purchase:
        # On first use, so after dispatch() has checked the login and the role.
        return get_object_or_404(
            Purchase, pk=self.kwargs["purchase_pk"], customer_id=self.kwargs["pk"]
        )

    def get_initial(self):
        return {"amount": self.purchase.refundable_amount}

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


class TagListView(StaffRequiredMixin, ServiceFormMixin, FormView):
    """All tags with how many customers carry each, and a form to add one."""

    form_class = TagForm
    template_name = "customers/tag_list.html"

    def get_context_data(self, **kwargs):
        tags = Tag.objects.annotate(customer_count=Count("customers")).order_by("name")
        return super().get_context_data(tags=tags, **kwargs)

    def form_valid(self, form):
        return self.call_service(
            form,
            services.create_tag,
            message="Tag {result} was added.",
            redirect_to="customers:tags",
            name=form.cleaned_data["name"],
        )


class TagUpdateView(StaffRequiredMixin, ServiceFormMixin, FormView):
    form_class = TagForm
    template_name = "customers/action_form.html"

    @cached_property
    def tag(self) -> Tag:
        # On first use, so after dispatch() has checked the login and the role.
        return get_object_or_404(Tag, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "instance": Tag.objects.get(pk=self.tag.pk),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Rename tag {self.tag}", **kwargs)

    def form_valid(self, form):
        return self.call_service(
            form,
            services.rename_tag,
            message="The tag was renamed to {result}.",
            redirect_to="customers:tags",
            tag=self.tag,
            name=form.cleaned_data["name"],
        )


class ConfirmDeleteView(TemplateView):
    """GET asks for confirmation; POST deletes through the subclass's delete()."""

    template_name = "customers/confirm_delete.html"
    model = None
    success_url_name = ""

    def dispatch(self, request, *args, **kwargs):
        self.object = get_object_or_404(self.model, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            object=self.object, cancel_url=reverse(self.success_url_name), **kwargs
        )

    def post(self, request, *args, **kwargs):
        messages.success(request, self.delete())
        return redirect(self.success_url_name)


class TagDeleteView(StaffRequiredMixin, ConfirmDeleteView):
    model = Tag
    success_url_name = "customers:tags"
    extra_context = {"consequence": "It is removed from every customer who has it."}

    def delete(self) -> str:
        services.delete_tag(tag=self.object)
        return f"Tag {self.object} was deleted."


class SegmentListView(StaffRequiredMixin, ListView):
    template_name = "customers/segment_list.html"
    context_object_name = "segments"
    paginate_by = 50

    def get_queryset(self):
        return SavedSegment.objects.select_related("created_by")


class SegmentCreateView(StaffRequiredMixin, ServiceFormMixin, FormView):
    """Save the list's current filters (from the query string) under a name."""

    form_class = SegmentForm
    template_name = "customers/action_form.html"
    extra_context = {"title": "Save these filters as a segment"}

    def get_params(self) -> dict:
        filters = CustomerFilterForm(data=self.request.GET)
        filters.is_valid()
        return filters.filter_params()

    def get_context_data(self, **kwargs):
        return super().get_context_data(filters=self.get_params(), **kwargs)

    def form_valid(self, form):
        params = self.get_params()
        if not params:
            form.add_error(None, "Choose at least one filter on the list first.")
            return self.form_invalid(form)
        return self.call_service(
            form,
            services.save_segment,
            message="Segment {result} was saved.",
            redirect_to=lambda segment: segment,
            name=form.cleaned_data["name"],
            params=params,
            by=self.request.user,
        )


class SegmentDetailView(StaffRequiredMixin, DetailView):
    """Open a segment: the customer list with its filters applied to today's data."""

    model = SavedSegment

    def get(self, request, *args, **kwargs):
        segment = self.get_object()
        query = QueryDict(mutable=True)
        query.update({k: str(v) for k, v in segment.params.items()})
        query["segment"] = str(segment.pk)
        return redirect(f"{reverse('customers:list')}?{query.urlencode()}")


class SegmentDeleteView(StaffRequiredMixin, ConfirmDeleteView):
    model = SavedSegment
    success_url_name = "customers:segments"
    extra_context = {"consequence": "The customers in it are not affected."}

    def delete(self) -> str:
        services.delete_segment(segment=self.object)
        return f"Segment {self.object} was deleted."
