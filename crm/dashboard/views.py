"""The owners' dashboard: the page, its CSV downloads, and the customer lists."""

from __future__ import annotations

import csv
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from crm.metrics.lists import KINDS, cached_customer_list
from crm.metrics.periods import MetricsInputError
from crm.metrics.report import cached_report
from crm.models import ClvFit, ClvScore
from crm.tasks import refresh_clv_fit_task
from customers.models import Customer
from customers.roles import OwnerRequiredMixin

from .cards import chart_data, headline_cards
from .forms import DashboardForm
from .services import save_list_as_segment
from .tables import all_tables

LIST_PAGE_SIZE = 50
FIT_STALE_AFTER = timedelta(hours=36)
FIT_REQUESTED_KEY = "dashboard:clv-fit-requested"
FIT_REQUEST_SECONDS = 600


class DashboardFormMixin:
    """Reads the choices from the query string; bad input is answered with 400."""

    def dispatch(self, request, *args, **kwargs):
        self.form = DashboardForm(request.GET)
        return super().dispatch(request, *args, **kwargs)

    def list_url_maker(self):
        query = self.form.query_string()

        def list_url(kind: str, key: str = "") -> str:
            extra = f"&{urlencode({'key': key})}" if key else ""
            return f"{reverse('dashboard:customers', args=[kind])}?{query}{extra}"

        return list_url


class DashboardView(OwnerRequiredMixin, DashboardFormMixin, TemplateView):
    template_name = "dashboard/dashboard.html"

    def get(self, request, *args, **kwargs):
        if not self.form.is_valid():
            context = self.get_context_data(form=self.form, invalid=True)
            return self.render_to_response(context, status=400)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(title="Dashboard", **kwargs)
        context["form"] = self.form
        if kwargs.get("invalid"):
            return context
        # The form shows what was applied, defaults included.
        context["form"] = DashboardForm(QueryDict(self.form.query_string()))
        request_fit_if_stale()
        report = cached_report(self.form.plan)
        list_url = self.list_url_maker()
        context.update(
            report=report,
            cards=headline_cards(report, list_url),
            tables=all_tables(report, list_url),
            charts=chart_data(report),
            query=self.form.query_string(),
            at_risk_url=list_url("at_risk"),
            members_url=list_url("members"),
            non_members_url=list_url("non_members"),
            contact_days=self.form.cleaned_data["contact_days"],
            report_time_zone=settings.TIME_ZONE,
        )
        return context


class DashboardCsvView(OwnerRequiredMixin, DashboardFormMixin, View):
    """One of the page's tables as CSV, with the same choices as the page."""

    def get(self, request, table: str):
        if not self.form.is_valid():
            errors = "; ".join(
                f"{field}: {' '.join(e)}" if field != "__all__" else " ".join(e)
                for field, e in self.form.errors.items()
            )
            return HttpResponse(
                f"Cannot make this table: {errors}\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        report = cached_report(self.form.plan)
        tables = all_tables(report, self.list_url_maker())
        if table not in tables:
            return HttpResponse(
                f"No table {table!r}; there are: {', '.join(tables)}.\n",
                status=404,
                content_type="text/plain; charset=utf-8",
            )
        plan = self.form.plan
        filename = f"{table}-{plan.period.first}-{plan.period.last}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        writer.writerows(tables[table].csv_rows())
        return response


class CustomerListView(OwnerRequiredMixin, DashboardFormMixin, TemplateView):
    """The customers behind a number, with their predicted value."""

    template_name = "dashboard/customer_list.html"

    def get(self, request, *args, **kwargs):
        if not self.form.is_valid():
            return self.render_to_response(
                self.get_context_data(error=self.form.errors.as_text()), status=400
            )
        try:
            self.customer_list = self.load_list()
        except MetricsInputError as error:
            return self.render_to_response(
                self.get_context_data(error=str(error)), status=400
            )
        return super().get(request, *args, **kwargs)

    def load_list(self):
        kind = self.kwargs["kind"]
        if kind not in KINDS:
            raise MetricsInputError(f"There is no list called {kind!r}.")
        return cached_customer_list(
            self.form.plan,
            kind,
            self.request.GET.get("key", ""),
            contact_days=self.form.cleaned_data["contact_days"],
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            title="Customers behind the number", form=self.form, **kwargs
        )
        if "error" in kwargs:
            return context
        found = self.customer_list
        page = Paginator(found.customer_ids, LIST_PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        context.update(
            title=found.title,
            customer_list=found,
            page_obj=page,
            rows=list_rows(list(page.object_list)),
            fit=ClvFit.objects.latest_fitted(),
            querystring=self.form.query_string()
            + (f"&{urlencode({'key': found.key})}" if found.key else ""),
            dashboard_url=f"{reverse('dashboard:index')}?{self.form.query_string()}",
        )
        return context

    def post(self, request, *args, **kwargs):
        """Save the whole list as a segment, for a campaign's audience."""
        if not self.form.is_valid():
            return self.get(request, *args, **kwargs)
        try:
            found = self.load_list()
        except MetricsInputError as error:
            messages.error(request, str(error))
            return redirect(reverse("dashboard:index"))
        if not found.customer_ids:
            messages.error(request, "The list is empty; nothing to save.")
            return redirect(request.get_full_path())
        name = request.POST.get("name", "").strip() or found.title
        try:
            segment = save_list_as_segment(
                name=name, customer_ids=found.customer_ids, by=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(request.get_full_path())
        messages.success(
            request,
            f"Saved {len(found.customer_ids):,} customers as the segment "
            f"“{segment.name}”; choose it as a campaign's audience.",
        )
        return redirect(reverse("communications:campaign-create"))


def request_fit_if_stale() -> None:
    """Queue the lifetime value fit when there is none from the last day and a half.

    A new installation then has predictions minutes after the first visit
    instead of after the first night; the cache key keeps it to one request.
    """
    fit = ClvFit.objects.order_by("-created_at", "-pk").only("created_at").first()
    if fit is not None and fit.created_at > timezone.now() - FIT_STALE_AFTER:
        return
    if cache.add(FIT_REQUESTED_KEY, True, FIT_REQUEST_SECONDS):
        refresh_clv_fit_task.delay_on_commit()


def list_rows(customer_ids: list[int]) -> list[dict]:
    """The page's customers, in list order, with the latest fit's predictions."""
    customers = Customer.objects.in_bulk(customer_ids)
    fit = ClvFit.objects.latest_fitted()
    scores = {
        s.customer_id: s
        for s in ClvScore.objects.filter(fit=fit, customer_id__in=customer_ids)
    }
    return [
        {"customer": customers[pk], "score": scores.get(pk)}
        for pk in customer_ids
        if pk in customers
    ]
