"""The API's endpoints. Thin: serializers validate, services change state, and
every POST honours the Idempotency-Key header."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.response import Response

from customers import services
from customers.models import Customer, Feedback, Interaction, Purchase

from .idempotency import HEADER, MAX_KEY_LENGTH, IdempotentCreateMixin
from .serializers import (
    CustomerSerializer,
    FeedbackSerializer,
    InteractionSerializer,
    PurchaseSerializer,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[ -~]*[!-~][ -~]*$",
    },
    OpenApiParameter.HEADER,
    required=False,
    description="Optional, recommended for every POST: a unique value (a UUID) "
    "per intended creation. A retry with the same key and body replays the "
    "first response and creates nothing; the same key with another body is 422.",
)
CUSTOMER_PK = OpenApiParameter(
    "customer_pk", int, OpenApiParameter.PATH, description="The customer's id."
)
SEARCH = OpenApiParameter(
    "search",
    str,
    description="Part of a name, email or phone number; case and accents ignored.",
)


class ServiceCreateMixin:
    """POST validates, then `perform_create` calls a service.

    `perform_create` returns False when the service found the thing stored
    already (a known order number): the answer is then 200, not 201.
    """

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = self.perform_create(serializer)
        return Response(
            serializer.data,
            status=status.HTTP_200_OK if created is False else status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(parameters=[SEARCH]),
    create=extend_schema(parameters=[IDEMPOTENCY_KEY]),
)
class CustomerViewSet(
    IdempotentCreateMixin,
    ServiceCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers: list (with ?search= and ?page=), read, add, change."""

    serializer_class = CustomerSerializer
    queryset = Customer.objects.all()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        customers = Customer.objects.select_related("owner").prefetch_related("tags")
        if self.action == "list":
            # PostgreSQL refuses NUL in a string literal.
            search = self.request.query_params.get("search", "").replace("\x00", "")
            if search.strip():
                customers = customers.search(search)
        return customers

    def customer_of(self, response: Response) -> int | None:
        return response.data.get("id")

    def perform_create(self, serializer) -> None:
        fields = dict(serializer.validated_data)
        serializer.instance = services.create_customer(
            by=self.request.user,
            tags=fields.pop("tags", ()),
            consent_source="api",
            **fields,
        )

    def perform_update(self, serializer) -> None:
        fields = dict(serializer.validated_data)
        serializer.instance = services.update_customer(
            customer=serializer.instance,
            by=self.request.user,
            tags=fields.pop("tags", None),
            consent_source="api",
            **fields,
        )


class CustomerHistoryViewSet(
    IdempotentCreateMixin, ServiceCreateMixin, viewsets.GenericViewSet
):
    """Rows of one customer's history, at /customers/<customer_pk>/<rows>/."""

    def get_customer(self) -> Customer:
        if not hasattr(self, "_customer"):
            self._customer = get_object_or_404(
                Customer.objects.only("pk"), pk=self.kwargs["customer_pk"]
            )
        return self._customer

    def get_queryset(self):
        model = self.queryset.model
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return model.objects.none()
        return model.objects.for_customer(self.get_customer())


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER_PK]),
    create=extend_schema(parameters=[CUSTOMER_PK, IDEMPOTENCY_KEY]),
)
class PurchaseViewSet(mixins.ListModelMixin, CustomerHistoryViewSet):
    """A customer's purchases, newest first; recording one updates the
    customer's running figures (orders, total spent, first and last purchase)."""

    serializer_class = PurchaseSerializer
    queryset = Purchase.objects.all()

    def get_queryset(self):
        return super().get_queryset().select_related("by")

    def perform_create(self, serializer) -> bool:
        fields = serializer.validated_data
        # Whether it was stored now is record_purchase's answer, decided under
        # the customer's lock: asking first would race a retry of the request.
        serializer.instance, created = services.record_purchase(
            customer=self.get_customer(),
            amount=fields["amount"],
            occurred_at=fields.get("occurred_at") or timezone.now(),
            reference=fields.get("reference") or None,
            currency=fields.get("currency") or None,
            channel=fields.get("channel") or None,
            by=self.request.user,
        )
        return created


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER_PK]),
    create=extend_schema(parameters=[CUSTOMER_PK, IDEMPOTENCY_KEY]),
)
class InteractionViewSet(mixins.ListModelMixin, CustomerHistoryViewSet):
    """A customer's interactions (calls, emails, visits, notes…), newest first."""

    serializer_class = InteractionSerializer
    queryset = Interaction.objects.all()

    def get_queryset(self):
        return super().get_queryset().select_related("by")

    def perform_create(self, serializer) -> None:
        serializer.instance = services.log_interaction(
            customer=self.get_customer(),
            by=self.request.user,
            **serializer.validated_data,
        )


@extend_schema_view(create=extend_schema(parameters=[CUSTOMER_PK, IDEMPOTENCY_KEY]))
class FeedbackViewSet(CustomerHistoryViewSet):
    """Record a customer's satisfaction (csat, 1–5) or recommendation (nps, 0–10)."""

    serializer_class = FeedbackSerializer
    queryset = Feedback.objects.all()

    def perform_create(self, serializer) -> None:
        serializer.instance = services.record_feedback(
            customer=self.get_customer(),
            by=self.request.user,
            **serializer.validated_data,
        )


class ApiSchemaView(SpectacularAPIView):
    """The OpenAPI schema, for staff (by token or by their session)."""


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI, served from local static files; its script is a separate
    request, so no inline script is needed."""

    url_name = "api:schema"
    template_name = "crm/api_docs.html"

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
