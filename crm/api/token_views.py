"""The Owner's settings page for API tokens: make, list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.generic import ListView, TemplateView

from crm.models import ApiToken
from customers.roles import OwnerRequiredMixin
from customers.views.base import add_form_errors

from .forms import ApiTokenForm
from .services import create_api_token, revoke_api_token

TOKENS_PER_PAGE = 50


class ApiTokenListView(OwnerRequiredMixin, ListView):
    """Every token, active first; POST makes one and shows its secret once."""

    template_name = "crm/api_token_list.html"
    context_object_name = "tokens"
    paginate_by = TOKENS_PER_PAGE
    extra_context = {"title": "API tokens"}

    def get_queryset(self):
        return ApiToken.objects.select_related("user", "revoked_by").order_by(
            "revoked_at", "-created_at", "-pk"
        )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ApiTokenForm())
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, secret = create_api_token(
                    user=request.user, name=form.cleaned_data["name"]
                )
            except ValidationError as error:
                add_form_errors(form, error)
            else:
                # Rendered, not redirected: the secret is never stored, not even
                # in the session for the page after a redirect.
                response = render(
                    request,
                    "crm/api_token_created.html",
                    {"title": "API token created", "token": token, "secret": secret},
                )
                add_never_cache_headers(response)  # no copy in a browser cache
                return response
        self.object_list = self.get_queryset()
        context = self.get_context_data(form=form)
        return self.render_to_response(context)


class ApiTokenRevokeView(OwnerRequiredMixin, TemplateView):
    """GET asks for confirmation; POST revokes."""

    template_name = "crm/api_token_revoke.html"

    def dispatch(self, request, *args, **kwargs):
        if not self.test_func():
            # Refuse before the lookup: whether a token exists is not shown.
            return self.handle_no_permission()
        self.token = get_object_or_404(
            ApiToken.objects.select_related("user"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=f"Revoke {self.token}",
            token=self.token,
            cancel_url=reverse("api_tokens:list"),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        try:
            revoke_api_token(token=self.token, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, f"{self.token} was revoked: it no longer gives access."
            )
        return redirect("api_tokens:list")
