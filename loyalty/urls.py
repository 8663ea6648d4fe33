"""Loyalty program pages, mounted at /loyalty/."""

from django.urls import path

from customers.wiring import NavItem

from .views import manage, members

app_name = "loyalty"

urlpatterns = [
    path("", manage.OverviewView.as_view(), name="overview"),
    path("program/", manage.ProgramView.as_view(), name="program"),
    path("tiers/", manage.TierListView.as_view(), name="tiers"),
    path("tiers/<int:pk>/edit/", manage.TierUpdateView.as_view(), name="tier-edit"),
    path("tiers/<int:pk>/delete/", manage.TierDeleteView.as_view(), name="tier-delete"),
    path("rewards/", manage.RewardListView.as_view(), name="rewards"),
    path(
        "rewards/<int:pk>/edit/", manage.RewardUpdateView.as_view(), name="reward-edit"
    ),
    path(
        "opening-balances/",
        manage.OpeningBalancesView.as_view(),
        name="opening-balances",
    ),
    path("members/<int:pk>/", members.MemberView.as_view(), name="member"),
    path("members/<int:pk>/enroll/", members.EnrollView.as_view(), name="enroll"),
    path("members/<int:pk>/redeem/", members.RedeemView.as_view(), name="redeem"),
    path("members/<int:pk>/adjust/", members.AdjustView.as_view(), name="adjust"),
    path(
        "redemptions/<int:pk>/",
        members.RedemptionView.as_view(),
        name="redemption",
    ),
    path(
        "redemptions/<int:pk>/cancel/",
        members.RedemptionCancelView.as_view(),
        name="redemption-cancel",
    ),
]

# The top bar's link (settings.CRM_NAV_ITEMS).
NAV_ITEM = NavItem("Loyalty", "loyalty:overview", owner_only=True)
