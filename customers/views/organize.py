"""Tags and saved segments."""

from __future__ import annotations

from django.db.models import Count
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, ListView

from .. import services
from ..filters import CustomerFilterForm
from ..forms import SegmentForm, TagForm
from ..models import SavedSegment, Tag
from ..roles import StaffRequiredMixin
from .base import ConfirmDeleteView, ServiceFormMixin


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
