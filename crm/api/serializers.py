"""What the API reads and writes. Serializers validate input only; the views hand
it to the services, which keep the running figures.

Every serializer refuses fields it does not accept (DRF would drop them
silently): a misspelt field or an attempt to set a running figure is a 400
naming the field, not a request that quietly did less than asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import Customer, Feedback, Interaction, Purchase, Tag
from customers.models.customer import validate_moment

UNKNOWN_FIELD = "Unknown field."
READ_ONLY_FIELD = "This field is read-only."


class StrictFieldsMixin:
    """A 400 for any field in the body that the serializer does not accept."""

    def to_internal_value(self, data):
        refused = {}
        if isinstance(data, Mapping):
            for name in data:
                field = self.fields.get(name)
                if field is None:
                    refused[name] = [UNKNOWN_FIELD]
                elif field.read_only:
                    refused[name] = [READ_ONLY_FIELD]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if refused and isinstance(error.detail, Mapping):
                raise serializers.ValidationError({**error.detail, **refused}) from None
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value


class MomentField(serializers.DateTimeField):
    """A date-time checked as sent, before it is moved to the business zone:
    an offset PostgreSQL would refuse is refused, not silently converted
    (customers.models.customer.validate_moment, the rule of every door)."""

    def enforce_timezone(self, value):
        try:
            validate_moment(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return super().enforce_timezone(value)


class NameRelatedField(serializers.SlugRelatedField):
    """A related object by its name, matched case-insensitively."""

    default_error_messages = {
        **serializers.SlugRelatedField.default_error_messages,
        "invalid": "Give a name as text.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        queryset = self.get_queryset()
        try:
            return queryset.get(**{f"{self.slug_field}__iexact": data.strip()})
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        except queryset.model.MultipleObjectsReturned:
            return queryset.get(**{self.slug_field: data.strip()})


class CustomerSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A customer's profile and consent, with the running figures (read-only)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: MomentField,
    }

    owner = NameRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        allow_null=True,
        required=False,
        help_text="Username of the member of staff who looks after the customer.",
    )
    tags = NameRelatedField(
        slug_field="name",
        queryset=Tag.objects.all(),
        many=True,
        required=False,
        help_text="Names of existing tags; on update, the full new list.",
    )

    class Meta:
        model = Customer
        consent = [
            name for field in Customer.CONSENT_FIELDS for name in (field, f"{field}_at")
        ]
        fields = [
            "id",
            *Customer.PROFILE_FIELDS,
            "tags",
            *consent,
            *Customer.FIGURE_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            *(name for name in consent if name.endswith("_at")),
            *Customer.FIGURE_FIELDS,
            "created_at",
            "updated_at",
        ]
        # Uniqueness of email and reference is checked by the service's
        # full_clean (case-insensitive, blanks allowed), not by DRF.
        validators = []

    def validate_phone(self, value: str) -> str:
        if value and not any(c.isdigit() for c in value):
            raise serializers.ValidationError("Enter a phone number with digits.")
        return value


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^\d{1,10}(\.\d{1,2})?$",
        "example": "12.50",
    }
)
class AmountField(serializers.DecimalField):
    """Money: at most 10 digits before the point and 2 after, not negative."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            max_digits=12, decimal_places=2, min_value=Decimal("0"), **kwargs
        )


class PurchaseSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A purchase; recording one updates the customer's running figures."""

    amount = AmountField()
    occurred_at = MomentField(
        required=False,
        help_text="When the purchase was made; now if left out.",
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        allow_blank=True,
        help_text="ISO 4217 code such as EUR; the shop's currency if left out.",
    )
    reference = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Order or receipt number. Posting a known order again returns "
        "the stored purchase (200) and changes nothing.",
    )
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Purchase
        fields = [
            "id",
            "customer",
            "amount",
            "currency",
            "occurred_at",
            "reference",
            "channel",
            "refunded_amount",
            "refunded_at",
            "by",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "customer",
            "refunded_amount",
            "refunded_at",
            "by",
            "created_at",
        ]
        validators = []


class InteractionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A call, email, visit, note… on the customer's timeline."""

    occurred_at = MomentField(
        required=False,
        help_text="When it happened; now if left out.",
    )
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "kind",
            "direction",
            "subject",
            "body",
            "occurred_at",
            "by",
            "automated",
            "created_at",
        ]
        # Automated messages come from the sender only; what the API logs is
        # a person's contact.
        read_only_fields = ["id", "customer", "by", "automated", "created_at"]
        extra_kwargs = {"kind": {"required": True}}

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("subject") and not attrs.get("body"):
            raise serializers.ValidationError(
                {"subject": ["Give a subject or a body."]}
            )
        return attrs


class FeedbackSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A satisfaction (csat, 1–5) or recommendation (nps, 0–10) score."""

    occurred_at = MomentField(
        required=False,
        help_text="When it was given; now if left out.",
    )
    score = serializers.IntegerField(
        min_value=0,
        max_value=10,
        help_text="1 to 5 for csat, 0 to 10 for nps.",
    )

    class Meta:
        model = Feedback
        fields = ["id", "customer", "kind", "score", "comment", "occurred_at"]
        read_only_fields = ["id", "customer"]
        extra_kwargs = {"kind": {"required": True}}
