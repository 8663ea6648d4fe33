from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from communications.views import UnsubscribeView
from crm.team.views import PasswordChangeView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:list"), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Public (no login): the set-password link the team page e-mails.
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("customers/", include("customers.urls")),
    path("loyalty/", include("loyalty.urls")),
    path("communications/", include("communications.urls")),
    path("dashboard/", include("crm.dashboard.urls")),
    # Public (no login): the signed link in every outreach message.
    path(
        "unsubscribe/<str:token>/",
        UnsubscribeView.as_view(),
        name="unsubscribe",
    ),
    # Public (no login): providers' webhooks, each checked for its signature.
    path("webhooks/", include("communications.webhook_urls")),
    path("api/v1/", include("crm.api.urls")),
    path("settings/api-tokens/", include("crm.api.token_urls")),
    path("settings/security/", include("crm.security.urls")),
    path("settings/team/", include("crm.team.urls")),
    path("settings/audit/", include("crm.audit.urls")),
    path("admin/", admin.site.urls),
]
