"""/settings/security/: the Owner's session limits and login lockouts."""

from django.urls import path

from . import views

app_name = "security"
urlpatterns = [
    path("", views.SecuritySettingsView.as_view(), name="settings"),
    path("lockouts/", views.LockoutListView.as_view(), name="lockouts"),
    path("lockouts/unlock/", views.LockoutUnlockView.as_view(), name="lockout-unlock"),
]
