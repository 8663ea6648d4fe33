"""/settings/team/: the Owner's team page."""

from django.urls import path

from . import views

app_name = "team"
urlpatterns = [
    path("", views.TeamListView.as_view(), name="list"),
    path("invite/", views.TeamInviteView.as_view(), name="invite"),
    path("<int:pk>/role/", views.TeamRoleView.as_view(), name="role"),
    path(
        "<int:pk>/reset-password/",
        views.TeamResetPasswordView.as_view(),
        name="reset-password",
    ),
    path("<int:pk>/deactivate/", views.TeamDeactivateView.as_view(), name="deactivate"),
    path("<int:pk>/reactivate/", views.TeamReactivateView.as_view(), name="reactivate"),
]
