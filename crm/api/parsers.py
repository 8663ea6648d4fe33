"""JSON bodies with a size limit, and errors (not crashes) for hostile JSON."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import exceptions, parsers, status

# A customer, purchase or note is a few kilobytes; a megabyte is generous and
# keeps one request from holding a worker's memory.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def max_body_bytes() -> int:
    return getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class LimitedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, reading no more than the limit.

    DRF reads the body straight from the WSGI stream, past Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE check, so the limit is enforced here.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        declared = _declared_length(request)
        if declared is not None and declared > limit:
            raise PayloadTooLarge(
                f"The request body is {declared} bytes; the limit is {limit}."
            )
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            # json raises this, not ValueError, for very deeply nested arrays.
            raise exceptions.ParseError(
                "JSON parse error - nested too deeply."
            ) from None
        where = _lone_surrogate(data)
        if where is not None:
            raise exceptions.ParseError(
                f"JSON parse error - {where} holds a lone UTF-16 surrogate "
                "(such as \\ud800), which is not a character: send valid Unicode."
            )
        return data


def _lone_surrogate(value, where: str = "the body") -> str | None:
    """Where the parsed JSON holds a lone surrogate (json accepts "\\ud800").

    Such a string cannot be encoded as UTF-8: stored, echoed in an error or
    written to a log, it would crash the request. Keys are named by position,
    since echoing a bad key would carry the surrogate into the answer.
    """
    if isinstance(value, str):
        return where if _has_surrogate(value) else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate(item, f"item {index} of {where}")
            if found:
                return found
    if isinstance(value, dict):
        for index, (key, item) in enumerate(value.items()):
            if _has_surrogate(key):
                return f"key number {index + 1} of {where}"
            found = _lone_surrogate(item, f'"{key}"')
            if found:
                return found
    return None


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= character <= "\udfff" for character in text)


def _declared_length(request) -> int | None:
    if request is None:
        return None
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return None
