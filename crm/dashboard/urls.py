from django.urls import path

from customers.wiring import NavItem

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="index"),
    path("csv/<slug:table>.csv", views.DashboardCsvView.as_view(), name="csv"),
    path("customers/<slug:kind>/", views.CustomerListView.as_view(), name="customers"),
]

# The top bar's link (settings.CRM_NAV_ITEMS).
NAV_ITEM = NavItem("Dashboard", "dashboard:index", owner_only=True)
