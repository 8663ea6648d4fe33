"""The outbox (Staff may read it; Owners also resolve) and the next 14 days."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.functions import Coalesce, TruncDate
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import DetailView, ListView, TemplateView

from customers.roles import OwnerRequiredMixin, StaffRequiredMixin, is_owner

from .. import services
from ..forecast import next_days
from ..forms import OutboxFilterForm
from ..models import Message, Status


def filter_outbox(queryset, cleaned: dict):
    for name in ("status", "trigger", "channel"):
        if cleaned.get(name):
            queryset = queryset.filter(**{name: cleaned[name]})
    if cleaned.get("rule"):
        queryset = queryset.filter(rule=cleaned["rule"])
    if cleaned.get("campaign"):
        queryset = queryset.filter(campaign=cleaned["campaign"])
    if cleaned.get("customer"):
        queryset = queryset.filter(customer_id=cleaned["customer"])
    if cleaned.get("date_from") or cleaned.get("date_to"):
        queryset = queryset.annotate(
            day=TruncDate(Coalesce("sent_at", "scheduled_for"))
        )
        if cleaned.get("date_from"):
            queryset = queryset.filter(day__gte=cleaned["date_from"])
        if cleaned.get("date_to"):
            queryset = queryset.filter(day__lte=cleaned["date_to"])
    return queryset


class OutboxView(StaffRequiredMixin, ListView):
    """Every message, filtered; Staff see it too (they see the same on timelines)."""

    template_name = "communications/outbox.html"
    context_object_name = "outbox"
    paginate_by = 50

    def get_queryset(self):
        self.filters = OutboxFilterForm(data=self.request.GET or None)
        cleaned = self.filters.cleaned_data if self.filters.is_valid() else {}
        queryset = Message.objects.select_related("customer", "rule", "campaign")
        queryset = queryset.defer("body_text", "body_html", "customer__notes")
        return filter_outbox(queryset, cleaned).order_by("-scheduled_for", "-pk")

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        counts = dict(
            Message.objects.values_list("status").annotate(n=Count("pk")).order_by()
        )
        return super().get_context_data(
            filters=self.filters,
            querystring=query.urlencode(),
            status_counts=[(s, label, counts.get(s, 0)) for s, label in Status.choices],
            **kwargs,
        )


class MessageDetailView(StaffRequiredMixin, DetailView):
    template_name = "communications/message_detail.html"
    context_object_name = "message"

    def get_queryset(self):
        return Message.objects.select_related(
            "customer", "rule", "campaign", "template"
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            can_resolve=is_owner(self.request.user)
            and self.object.status == Status.RECONCILE,
            **kwargs,
        )


class MessageResolveView(OwnerRequiredMixin, TemplateView):
    """A message whose worker died and whose provider cannot say: an Owner decides."""

    template_name = "communications/message_resolve.html"

    def dispatch(self, request, *args, **kwargs):
        self.message = get_object_or_404(Message, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(message=self.message, **kwargs)

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        service = {
            "sent": services.mark_reconciled_sent,
            "again": services.send_again,
        }.get(action)
        if service is None:
            messages.error(request, "Choose whether it went out or not.")
            return redirect("communications:message-resolve", self.message.pk)
        try:
            service(message=self.message, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                "Marked as sent." if action == "sent" else "Queued to send again.",
            )
        return redirect(self.message)


class UpcomingView(OwnerRequiredMixin, TemplateView):
    """The next 14 days: what is planned, and what each rule will make due."""

    template_name = "communications/upcoming.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(forecast=next_days(), **kwargs)
