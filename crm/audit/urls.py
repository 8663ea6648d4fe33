"""/settings/audit/: the Owner's search of who changed what and when."""

from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.AuditEventListView.as_view(), name="list"),
]
