"""A customer's data rights, for Owners: download everything held, or erase it."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.views import View
from django.views.generic import FormView

from ..data_rights import customer_data, erase_customer
from ..forms import EraseForm
from ..roles import OwnerRequiredMixin
from .base import CustomerScopedMixin


class CustomerDataView(OwnerRequiredMixin, CustomerScopedMixin, View):
    stores_about_customer = False

    def get(self, request, *args, **kwargs):
        data = customer_data(self.customer)
        response = HttpResponse(
            json.dumps(data, indent=2, cls=DjangoJSONEncoder, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="customer-{self.customer.pk}.json"'
        )
        return response


class CustomerEraseView(OwnerRequiredMixin, CustomerScopedMixin, FormView):
    form_class = EraseForm
    stores_about_customer = False  # it says itself that it was done already
    template_name = "customers/action_form.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Erase {self.customer}'s personal data", **kwargs
        )

    def form_valid(self, form):
        return self.run_service(
            form,
            erase_customer,
            "The customer's personal data was erased; their purchases stay, anonymous.",
            customer=self.customer,
        )
