"""/api/v1/: the endpoints, the OpenAPI schema and its browsable docs."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"

router = DefaultRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register(
    r"customers/(?P<customer_pk>\d+)/purchases",
    views.PurchaseViewSet,
    basename="customer-purchase",
)
router.register(
    r"customers/(?P<customer_pk>\d+)/interactions",
    views.InteractionViewSet,
    basename="customer-interaction",
)
router.register(
    r"customers/(?P<customer_pk>\d+)/feedback",
    views.FeedbackViewSet,
    basename="customer-feedback",
)

urlpatterns = [
    path("schema/", views.ApiSchemaView.as_view(), name="schema"),
    path("docs/", views.ApiDocsView.as_view(), name="docs"),
    *router.urls,
]
