"""The Idempotency-Key header: a retried POST never creates twice.

The header is optional. With it, the first request's record (user, key,
fingerprint) is inserted in the same transaction as whatever the request
creates, and its response is stored there when it succeeds:

- the same key with the same request replays the stored response (header
  ``Idempotent-Replayed: true``) and creates nothing;
- the same key with a different request (another body or URL) is a 422;
- two requests with one key at the same moment: the second one's insert waits
  on the unique (user, key) index until the first commits, then replays it;
- a request that fails (4xx, or an error) stores nothing, so it may be retried
  with the same key once corrected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import QueryDict
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from crm.models import ApiToken, IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was already used with a different request. "
        "Use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


def read_key(request: Request) -> str | None:
    """The request's Idempotency-Key, or None; a malformed one is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key:
        raise exceptions.ValidationError({HEADER: ["The key must not be empty."]})
    if len(key) > MAX_KEY_LENGTH:
        raise exceptions.ValidationError(
            {HEADER: [f"Use at most {MAX_KEY_LENGTH} characters."]}
        )
    if not all(" " <= c <= "~" for c in key):
        raise exceptions.ValidationError(
            {HEADER: ["Use printable ASCII characters only (a UUID is ideal)."]}
        )
    return key


def fingerprint(request: Request) -> str:
    """SHA-256 of the method, path and body as parsed (key order and spacing
    do not matter)."""
    data = request.data
    if isinstance(data, QueryDict):
        data = {key: data.getlist(key) for key in sorted(data)}
    canonical = json.dumps(
        [request.method, request.path, data],
        sort_keys=True,
        separators=(",", ":"),
        cls=JSONEncoder,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _jsonable(data):
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _replay(record: IdempotencyRecord) -> Response:
    return Response(
        record.response_body,
        status=record.status_code,
        headers={REPLAYED_HEADER: "true"},
    )


ERASED_DETAIL = (
    "The response to this request showed a customer whose personal data has "
    "since been erased; it is not stored any more. Nothing was created again."
)


def run_idempotently(
    request: Request,
    handle: Callable[[], Response],
    customer_of: Callable[[Response], int | None] = lambda response: None,
) -> Response:
    """Run `handle` (which creates something) at most once per Idempotency-Key.

    `customer_of` names the customer a stored response shows, so that erasing
    them replaces it (crm.api.personal_data).
    """
    key = read_key(request)
    if key is None:
        return handle()
    request_fingerprint = fingerprint(request)  # parses the body: a 400 comes first
    user = request.user
    token = request.auth if isinstance(request.auth, ApiToken) else None
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    token=token,
                    method=request.method,
                    path=request.path[:2000],
                    fingerprint=request_fingerprint,
                )
        except IntegrityError:
            # Stored already, or stored just now by a concurrent request that
            # this insert waited for: its row is committed and visible.
            stored = IdempotencyRecord.objects.get(user=user, key=key)
            if stored.fingerprint != request_fingerprint:
                raise IdempotencyKeyReused() from None
            return _replay(stored)

        response = handle()
        if 200 <= response.status_code < 300:
            record.status_code = response.status_code
            record.response_body = _jsonable(response.data)
            record.customer_id = customer_of(response)
            record.save(update_fields=["status_code", "response_body", "customer_id"])
        else:
            # Nothing was made: forget the key so a corrected retry may use it.
            transaction.set_rollback(True)
        return response


class IdempotentCreateMixin:
    """POST (create) honours the Idempotency-Key header."""

    def customer_of(self, response: Response) -> int | None:
        """The customer whose data the response shows: the one in the URL."""
        customer_pk = self.kwargs.get("customer_pk")
        return int(customer_pk) if customer_pk is not None else None

    def create(self, request, *args, **kwargs):
        return run_idempotently(
            request,
            lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs),
            self.customer_of,
        )
