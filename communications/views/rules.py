"""Follow-up rules and message templates (Owners)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import FormView, ListView

from customers.roles import OwnerRequiredMixin
from customers.views.base import ConfirmDeleteView, ServiceFormMixin

from .. import services
from ..context import customer_context
from ..forms import PreviewForm, RuleForm, TemplateForm
from ..models import FollowUpRule, MessageTemplate
from ..rendering import render_message, sample_context
from ..triggers import due_set


class RuleListView(OwnerRequiredMixin, ListView):
    """Rules in priority order, each with how many customers it would reach now."""

    template_name = "communications/rule_list.html"
    context_object_name = "rules"
    paginate_by = 50

    def get_queryset(self):
        return (
            FollowUpRule.objects.by_priority()
            .select_related("template")
            .prefetch_related("tags")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        for rule in context["rules"]:
            due = due_set(rule, now)
            rule.reach = due.count_new_customers() if due is not None else None
        return context


class RuleFormView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    form_class = RuleForm
    template_name = "communications/form.html"

    @cached_property
    def rule(self) -> FollowUpRule | None:
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(FollowUpRule, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.rule is not None:
            kwargs["instance"] = FollowUpRule.objects.get(pk=self.rule.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        title = f"Rule: {self.rule}" if self.rule else "New follow-up rule"
        return super().get_context_data(
            title=title, cancel_url="communications:rules", **kwargs
        )

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        tags = data.pop("tags")
        return self.call_service(
            form,
            services.save_rule,
            message="Rule {result} was saved.",
            redirect_to="communications:rules",
            rule=self.rule,
            tags=tags,
            by=self.request.user,
            **data,
        )


class RuleDeleteView(OwnerRequiredMixin, ConfirmDeleteView):
    model = FollowUpRule
    success_url_name = "communications:rules"
    extra_context = {
        "consequence": "Its sent messages stay in the outbox; those still queued "
        "are skipped. To pause it instead, untick Active."
    }

    def delete(self) -> str:
        services.delete_rule(rule=self.object)
        return f"Rule {self.object} was deleted."


class TemplateListView(OwnerRequiredMixin, ListView):
    template_name = "communications/template_list.html"
    context_object_name = "templates"
    paginate_by = 50

    def get_queryset(self):
        return MessageTemplate.objects.order_by("name")


class TemplateFormView(OwnerRequiredMixin, ServiceFormMixin, FormView):
    form_class = TemplateForm
    template_name = "communications/form.html"

    @cached_property
    def template(self) -> MessageTemplate | None:
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(MessageTemplate, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.template is not None:
            kwargs["instance"] = MessageTemplate.objects.get(pk=self.template.pk)
        return kwargs

    def get_context_data(self, **kwargs):
        title = f"Template: {self.template}" if self.template else "New template"
        return super().get_context_data(
            title=title,
            cancel_url="communications:templates",
            preview_template=self.template,
            **kwargs,
        )

    def form_valid(self, form):
        return self.call_service(
            form,
            services.save_template,
            message="Template {result} was saved.",
            redirect_to=lambda template: template,
            template=self.template,
            **form.cleaned_data,
        )


class TemplatePreviewView(OwnerRequiredMixin, FormView):
    """The template rendered for a chosen customer (or example values)."""

    form_class = PreviewForm
    template_name = "communications/template_preview.html"

    def dispatch(self, request, *args, **kwargs):
        self.template = get_object_or_404(MessageTemplate, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {"data": self.request.GET or None}

    def get(self, request, *args, **kwargs):
        form = self.get_form()
        customer = form.cleaned_data.get("customer") if form.is_valid() else None
        return self.render_to_response(
            self.get_context_data(
                form=form,
                template=self.template,
                customer=customer,
                preview=preview(self.template, customer),
            )
        )


def preview(template: MessageTemplate, customer=None) -> dict:
    """The rendered subject and bodies, or the error that rendering raised."""
    if customer is None:
        context = sample_context()
    else:
        context = customer_context(customer, channel=template.channel)
    try:
        return {"rendered": render_message(template, context)}
    except Exception as error:  # noqa: BLE001 - shown to the Owner as it is
        return {"error": str(error)}


class TemplateDeleteView(OwnerRequiredMixin, ConfirmDeleteView):
    model = MessageTemplate
    success_url_name = "communications:templates"
    extra_context = {"consequence": "Messages already written keep their text."}

    def post(self, request, *args, **kwargs):
        try:
            services.delete_template(template=self.object)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(self.object)
        messages.success(request, f"Template {self.object} was deleted.")
        return redirect(self.success_url_name)
