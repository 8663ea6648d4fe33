"""Outreach pages under /communications/ (the unsubscribe page is in crm.urls)."""

from django.urls import path

from customers.wiring import NavItem

from . import views

app_name = "communications"
urlpatterns = [
    path("", views.OutboxView.as_view(), name="outbox"),
    path(
        "messages/<int:pk>/", views.MessageDetailView.as_view(), name="message-detail"
    ),
    path(
        "messages/<int:pk>/resolve/",
        views.MessageResolveView.as_view(),
        name="message-resolve",
    ),
    path("upcoming/", views.UpcomingView.as_view(), name="upcoming"),
    path("rules/", views.RuleListView.as_view(), name="rules"),
    path("rules/new/", views.RuleFormView.as_view(), name="rule-create"),
    path("rules/<int:pk>/edit/", views.RuleFormView.as_view(), name="rule-edit"),
    path("rules/<int:pk>/delete/", views.RuleDeleteView.as_view(), name="rule-delete"),
    path("campaigns/", views.CampaignListView.as_view(), name="campaigns"),
    path("campaigns/new/", views.CampaignFormView.as_view(), name="campaign-create"),
    path(
        "campaigns/<int:pk>/",
        views.CampaignDetailView.as_view(),
        name="campaign-detail",
    ),
    path(
        "campaigns/<int:pk>/edit/",
        views.CampaignFormView.as_view(),
        name="campaign-edit",
    ),
    path(
        "campaigns/<int:pk>/cancel/",
        views.CampaignCancelView.as_view(),
        name="campaign-cancel",
    ),
    path(
        "campaigns/<int:pk>/send-now/",
        views.CampaignSendNowView.as_view(),
        name="campaign-send-now",
    ),
    path("templates/", views.TemplateListView.as_view(), name="templates"),
    path("templates/new/", views.TemplateFormView.as_view(), name="template-create"),
    path(
        "templates/<int:pk>/edit/",
        views.TemplateFormView.as_view(),
        name="template-edit",
    ),
    path(
        "templates/<int:pk>/preview/",
        views.TemplatePreviewView.as_view(),
        name="template-preview",
    ),
    path(
        "templates/<int:pk>/delete/",
        views.TemplateDeleteView.as_view(),
        name="template-delete",
    ),
    path("policy/", views.PolicyView.as_view(), name="policy"),
]

# The top bar's link (settings.CRM_NAV_ITEMS).
NAV_ITEM = NavItem("Outreach", "communications:outbox")
