"""Login lockouts with django-axes: who is locked out, the page they see, and
which address a request comes from.

Failures count per username and per client address (AXES_LOCKOUT_PARAMETERS):
guessing one account's password from many addresses locks the account, and one
address trying many accounts locks the address. A lockout lasts the cool-off
(AXES_COOLOFF_TIME) or until an Owner unlocks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone


class LoginLockoutBackend(AxesStandaloneBackend):
    """Refuses logins while the account or the address is locked out.

    Authentication without a request (the shell, a management command, a test
    calling authenticate()) has no address to count against and is not a web
    login; it is left to the next backend instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(
            request, username=username, password=password, **kwargs
        )


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, unless behind a trusted proxy.

    X-Forwarded-For is a header anyone can send; it is read only when the
    deployment says a proxy sits in front (TRUST_PROXY_HEADERS), and then the
    address PROXY_COUNT hops from its right end is the client's (each proxy
    appends the address it received the request from).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.TRUST_PROXY_HEADERS:
        return remote
    forwarded = [
        hop.strip()
        for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if hop.strip()
    ]
    count = settings.PROXY_COUNT
    if len(forwarded) < count:
        return remote
    return forwarded[-count][:45]


LOCKOUT_MESSAGE = (
    "Too many failed logins for this account or from this address. Logging in is "
    "blocked for {minutes} minutes; an Owner can unlock it sooner under Settings → "
    "Lockouts."
)


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """The login page again, with the reason, as 429 Too Many Requests."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
    return render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request),
            "lockout_message": LOCKOUT_MESSAGE.format(minutes=minutes),
        },
        status=429,
    )


@dataclass(frozen=True)
class Lockout:
    """An account or an address with enough recent failures to be locked out."""

    kind: str  # "username" or "ip_address"
    value: str
    failures: int
    last_failure_at: datetime
    until: datetime | None

    @property
    def label(self) -> str:
        return "Account" if self.kind == "username" else "Address"


def current_lockouts(now: datetime | None = None) -> list[Lockout]:
    """Accounts and addresses locked out now, most recent failure first."""
    now = now or timezone.now()
    limit = get_failure_limit(None, None)
    cool_off = get_cool_off()
    attempts = AccessAttempt.objects.all()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=now - cool_off)
    found: list[Lockout] = []
    for kind in ("username", "ip_address"):
        rows = (
            attempts.exclude(**{f"{kind}__isnull": True})
            .values(kind)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
        )
        for row in rows:
            found.append(
                Lockout(
                    kind=kind,
                    value=row[kind],
                    failures=row["failures"],
                    last_failure_at=row["last"],
                    until=row["last"] + cool_off if cool_off else None,
                )
            )
    return sorted(found, key=lambda lockout: lockout.last_failure_at, reverse=True)


def unlock(*, kind: str, value: str) -> int:
    """Forget the failures that lock out the account or address; returns how many
    attempt records were removed."""
    if kind == "username":
        return reset(username=value)
    if kind == "ip_address":
        return reset(ip=value)
    raise ValueError(f"Unknown lockout kind {kind!r}")
