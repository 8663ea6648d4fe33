"""A request budget per API token, so one runaway script cannot flood the CRM."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from crm.models import ApiToken


class ApiTokenRateThrottle(SimpleRateThrottle):
    """`DEFAULT_THROTTLE_RATES["api_token"]` requests per token; staff using the
    browsable API with their session are not counted."""

    scope = "api_token"

    def get_rate(self) -> str | None:
        # Read at each request, not at import, so a settings change applies.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        # The hash, not the id: ids come back after a test database is rebuilt,
        # and a new token must not inherit an old one's count.
        return self.cache_format % {
            "scope": self.scope,
            "ident": request.auth.secret_hash[:32],
        }
