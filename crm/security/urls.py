"""/settings/security/: the Owner's session limits and two-factor requirement and
login lockouts; everyone's own two-factor login, and the code page that follows
the password when it is on."""

from django.urls import path

from customers.wiring import NavItem

from . import views

app_name = "security"
urlpatterns = [
    path("", views.SecuritySettingsView.as_view(), name="settings"),
    path("lockouts/", views.LockoutListView.as_view(), name="lockouts"),
    path("lockouts/unlock/", views.LockoutUnlockView.as_view(), name="lockout-unlock"),
    path("two-factor/", views.TwoFactorView.as_view(), name="two-factor"),
    path(
        "two-factor/setup/", views.TwoFactorSetupView.as_view(), name="two-factor-setup"
    ),
    path(
        "two-factor/disable/",
        views.TwoFactorDisableView.as_view(),
        name="two-factor-disable",
    ),
    path(
        "two-factor/verify/",
        views.TwoFactorVerifyView.as_view(),
        name="two-factor-verify",
    ),
]

# The top bar's link (settings.CRM_NAV_ITEMS).
NAV_ITEM = NavItem("Security", "security:settings", owner_only=True)
