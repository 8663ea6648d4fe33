"""Errors from services and the database, as 4xx responses with field errors."""

from __future__ import annotations

import logging

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from customers.services import CustomerErased, PurchaseReferenceConflict

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with data stored already."
    default_code = "conflict"


def service_error_detail(error: DjangoValidationError) -> dict:
    """A service's ValidationError as DRF field errors, keyed like a serializer's."""
    detail = as_serializer_error(error)
    if NON_FIELD_ERRORS in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
    return detail


def exception_handler(exc, context):
    """DRF's handler, plus the errors the services and the database raise."""
    if isinstance(exc, PurchaseReferenceConflict | CustomerErased):
        exc = Conflict(service_error_detail(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(service_error_detail(exc))
    elif isinstance(exc, IntegrityError):
        # A concurrent request stored the same email or reference between the
        # service's check and its write; the client may retry.
        logger.warning("API request hit a constraint: %s", exc)
        exc = Conflict(
            "Another request changed the same data at the same moment; "
            "check and try again."
        )
    elif isinstance(exc, DataError):
        # A value the serializer let through but the column cannot hold, such
        # as a customer's total spent beyond its 14 digits.
        logger.warning("API request hit a database limit: %s", exc)
        exc = exceptions.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: ["A value is out of range."]}
        )
    return drf_exception_handler(exc, context)
