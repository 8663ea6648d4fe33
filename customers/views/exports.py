"""CSV downloads for Owners: customers (with the list's filters), purchases and
interactions. Streamed, so memory stays flat however many rows there are."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views import View

from .. import exports
from ..filters import list_customers
from ..roles import OwnerRequiredMixin


def csv_response(name: str, header: list[str], rows) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    filename = f"{name}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CustomerExportView(OwnerRequiredMixin, View):
    """The customer list as CSV, with the filters of the list's query string."""

    def get(self, request):
        _, customers = list_customers(request.GET)
        return csv_response(
            "customers", exports.CUSTOMER_HEADER, exports.customer_rows(customers)
        )


class PurchaseExportView(OwnerRequiredMixin, View):
    def get(self, request):
        return csv_response(
            "purchases", exports.PURCHASE_HEADER, exports.purchase_rows()
        )


class InteractionExportView(OwnerRequiredMixin, View):
    def get(self, request):
        return csv_response(
            "interactions", exports.INTERACTION_HEADER, exports.interaction_rows()
        )
