"""/settings/api-tokens/: the Owner's API token page."""

from django.urls import path

from customers.wiring import NavItem

from . import token_views

app_name = "api_tokens"
urlpatterns = [
    path("", token_views.ApiTokenListView.as_view(), name="list"),
    path("<int:pk>/revoke/", token_views.ApiTokenRevokeView.as_view(), name="revoke"),
]

# The top bar's link (settings.CRM_NAV_ITEMS).
NAV_ITEM = NavItem("API tokens", "api_tokens:list", owner_only=True)
