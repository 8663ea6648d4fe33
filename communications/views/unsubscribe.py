"""The public unsubscribe page: no login, a signed link, one button.

GET only shows the button (mail scanners open links); POST unsubscribes at once,
including the one-click POST of RFC 8058 (``List-Unsubscribe=One-Click``) that
mail providers send without a CSRF token, hence csrf_exempt: the signed token
is what authorises it.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from customers.models import Customer, MergedCustomer

from .. import services
from ..unsubscribe import BadUnsubscribeToken, read_token

CHANNEL_NAMES = {"email": "emails", "sms": "text messages"}


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    template_name = "communications/unsubscribe.html"

    def dispatch(self, request, token: str, *args, **kwargs):
        try:
            self.request_data = read_token(token)
        except BadUnsubscribeToken:
            return self.page("invalid", status=400)
        # A link sent before a merge names the merged-away id: it reaches the
        # customer kept, who holds that person's address and consent now.
        customer_id = MergedCustomer.objects.current_id(self.request_data.customer_id)
        self.customer = (
            Customer.objects.filter(pk=customer_id)
            .only("pk", "first_name", "email_opt_in", "sms_opt_in")
            .first()
        )
        if self.customer is None:
            return self.page("gone", status=404)
        return super().dispatch(request, token, *args, **kwargs)

    def page(self, state: str, status: int = 200):
        channel = getattr(getattr(self, "request_data", None), "channel", "email")
        return render(
            self.request,
            self.template_name,
            {
                "state": state,
                "channel_name": CHANNEL_NAMES.get(channel, "messages"),
                "title": "Unsubscribe",
            },
            status=status,
        )

    def get(self, request, token: str):
        channel = self.request_data.channel
        subscribed = getattr(self.customer, f"{channel}_opt_in")
        return self.page("confirm" if subscribed else "already")

    def post(self, request, token: str):
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        how = "one-click unsubscribe" if one_click else "unsubscribe page"
        if self.request_data.message_id:
            how += f" (message {self.request_data.message_id})"
        changed = services.unsubscribe(
            customer_id=self.customer.pk, channel=self.request_data.channel, how=how
        )
        return self.page("done" if changed else "already")
