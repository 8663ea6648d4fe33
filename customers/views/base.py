"""What the staff pages share: paging, service calls, confirmations."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from .. import services
from ..models import Customer, ErasureRecord, ListedCustomer, attach_tag_names

CUSTOMERS_PER_PAGE = 50
TIMELINE_PER_PAGE = 25


def add_form_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError beside the form's matching fields."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


class CustomerPageMixin:
    """Pages of customers as light rows (ListedCustomer), each page's tags read
    with one query."""

    paginate_by = CUSTOMERS_PER_PAGE

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, has_other_pages = super().paginate_queryset(
            queryset, page_size
        )
        # The page's slice, still unread; counted above without the owner join.
        rows = rows.values_list(*ListedCustomer.FIELDS)
        zone = timezone.get_current_timezone()
        page.object_list = attach_tag_names([ListedCustomer(row, zone) for row in rows])
        return paginator, page, page.object_list, has_other_pages

    def get_context_data(self, **kwargs):
        # The rows link to <prefix><id>/ (customers/_customer_table.html): one
        # reverse() a page, not one per row.
        kwargs.setdefault("customer_url_prefix", reverse("customers:list"))
        return super().get_context_data(**kwargs)


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


class CustomerScopedMixin(ServiceFormMixin):
    """Loads the customer named in the URL as self.customer.

    A page that stores something about the customer sends an erased one back
    to their page with the reason, before the form is filled in; the service
    refuses too (customers.services.CustomerErased), whatever the page.
    """

    stores_about_customer = True

    def dispatch(self, request, *args, **kwargs):
        self.customer = get_object_or_404(Customer, pk=kwargs["pk"])
        if (
            self.stores_about_customer
            and request.user.is_authenticated
            and ErasureRecord.objects.filter(customer=self.customer).exists()
        ):
            messages.error(request, services.ERASED_REFUSAL)
            return redirect(self.customer)
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
