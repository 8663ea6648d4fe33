"""Changes to security state: the Owner's settings and unlocking lockouts."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .models import CACHE_KEY, SecuritySettings


def update_security_settings(
    *,
    by,
    idle_timeout_minutes: int,
    absolute_timeout_hours: int,
    require_two_factor: bool | None = None,
) -> SecuritySettings:
    """Store new session limits (and, unless None, whether two-factor login is
    required); they apply to every session from its next request."""
    with transaction.atomic():
        current, _ = SecuritySettings.objects.select_for_update().get_or_create(
            pk=SecuritySettings.SINGLETON_PK
        )
        current.idle_timeout_minutes = idle_timeout_minutes
        current.absolute_timeout_hours = absolute_timeout_hours
        if require_two_factor is not None:
            current.require_two_factor = require_two_factor
        current.updated_at = timezone.now()
        current.updated_by = by
        current.full_clean()
        current.save()
        # Now for this process's next request, and again once committed, so no
        # request caches the old values in between.
        cache.delete(CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(CACHE_KEY))
    return current
