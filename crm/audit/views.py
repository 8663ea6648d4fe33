"""The Owner's search of the audit trail."""

from __future__ import annotations

from django.views.generic import ListView

from customers.roles import OwnerRequiredMixin

from .forms import AuditSearchForm
from .models import AuditEvent

EVENTS_PER_PAGE = 50


def change_rows(changes: dict) -> list[dict]:
    """The event's changes as rows for the page: column, old, new."""
    if not isinstance(changes, dict):
        return []
    rows = []
    for column, change in sorted(changes.items()):
        change = change if isinstance(change, dict) else {}
        rows.append(
            {
                "column": column,
                "has_old": "old" in change,
                "old": change.get("old"),
                "has_new": "new" in change,
                "new": change.get("new"),
            }
        )
    return rows


class AuditEventListView(OwnerRequiredMixin, ListView):
    template_name = "crm/audit_list.html"
    context_object_name = "events"
    paginate_by = EVENTS_PER_PAGE
    extra_context = {"title": "Audit trail"}

    def get_queryset(self):
        self.form = AuditSearchForm(self.request.GET or None)
        if self.form.is_bound:
            self.form.is_valid()
        return self.form.filter(AuditEvent.objects.select_related("actor"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for event in context["events"]:
            event.change_rows = change_rows(event.changes)
        params = self.request.GET.copy()
        params.pop("page", None)
        context.update(form=self.form, querystring=params.urlencode())
        return context
