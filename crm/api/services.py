"""Making and revoking API tokens, finding the token a request presents, and
forgetting old idempotent responses."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import ApiToken, IdempotencyRecord, hash_token_secret

PREFIX_LENGTH = 8
# last_used_at is written at most this often per token: one UPDATE a minute
# instead of one per request.
LAST_USED_PRECISION = timedelta(minutes=1)


@transaction.atomic
def create_api_token(*, user, name: str) -> tuple[ApiToken, str]:
    """Make a token acting as `user`; returns it with its secret, shown only once."""
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip(),
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=hash_token_secret(secret),
    )
    token.full_clean()
    token.save()
    return token, secret


@transaction.atomic
def revoke_api_token(*, token: ApiToken, by) -> ApiToken:
    """Stop the token from authenticating anyone; the row stays for the record."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        raise ValidationError("This token was revoked already.")
    locked.revoked_at = timezone.now()
    locked.revoked_by = by
    locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def find_active_token(secret: str) -> ApiToken | None:
    """The unrevoked token with this secret, its user loaded, or None."""
    return (
        ApiToken.objects.active()
        .select_related("user")
        .filter(secret_hash=hash_token_secret(secret))
        .first()
    )


def note_token_used(token: ApiToken) -> None:
    """Record that the token was used just now (to the minute)."""
    now = timezone.now()
    if token.last_used_at is not None and token.last_used_at > (
        now - LAST_USED_PRECISION
    ):
        return
    # A conditional UPDATE: concurrent requests neither wait for nor undo it.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    token.last_used_at = now


@transaction.atomic
def delete_old_idempotency_records(
    *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Forget stored API responses older than `older_than`; how many went.

    Clients retry within minutes; a key reused after the retention is a new
    request. The records hold response bodies (personal data), so they do not
    stay forever.
    """
    cutoff = (now or timezone.now()) - older_than
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
