"""Sessions that end: after an idle time and at an absolute time after login.

The limits are the Owner's (SecuritySettings). Login stamps the session with
when it began; every request checks both limits and refreshes "last seen" at
most once a minute, so an active user's session is not rewritten on every page.
Django itself gives every login a new session key (login() cycles it) and ends
other sessions when the password changes (the session auth hash);
end_sessions_of() deletes a user's sessions outright (on deactivation).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import session_limits

LOGIN_AT = "crm_login_at"
SEEN_AT = "crm_seen_at"
# Seconds between two writes of "last seen" for an active session.
SEEN_RESOLUTION = 60


@receiver(user_logged_in, dispatch_uid="crm.security.stamp_session")
def stamp_session(sender, request: HttpRequest, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now
    # The cookie and the stored session expire at the absolute limit too.
    _, absolute = session_limits()
    request.session.set_expiry(int(absolute.total_seconds()))


def session_expired(session, now: float) -> str | None:
    """Why the session is over ("idle" or "absolute"), or None while it lasts."""
    idle, absolute = session_limits()
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT, login_at)
    if login_at is None:
        return None
    if now - login_at > absolute.total_seconds():
        return "absolute"
    if seen_at is not None and now - seen_at > idle.total_seconds():
        return "idle"
    return None


class SessionTimeoutMiddleware:
    """Logs out a session past either limit; the page then asks for a login."""

    MESSAGES = {
        "idle": "You were logged out after a time without activity. Please log in "
        "again.",
        "absolute": "Your login has reached its time limit. Please log in again.",
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            reason = session_expired(request.session, now)
            if reason:
                logout(request)
                messages.info(request, self.MESSAGES[reason])
            else:
                if LOGIN_AT not in request.session:
                    # A session from before these limits: they count from now.
                    request.session[LOGIN_AT] = int(now)
                seen_at = request.session.get(SEEN_AT, 0)
                if now - seen_at >= SEEN_RESOLUTION:
                    request.session[SEEN_AT] = int(now)
        return self.get_response(request)


def end_sessions_of(user) -> int:
    """Delete every stored session of `user`; how many there were.

    A deactivated user is refused at their next request anyway (the backend's
    user_can_authenticate); deleting the sessions as well means that
    reactivating the account later brings none of them back. Both session
    engines in use (db, cached_db) keep every session in the database; each is
    decoded to find its user, which suits a shop's few hundred sessions (the
    daily clearsessions removes expired ones).
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        return 0  # a cookie or cache-only engine: nothing stored to find
    model = store_class.get_model_class()
    ended = 0
    rows = model.objects.filter(expire_date__gt=timezone.now()).values_list(
        "session_key", "session_data"
    )
    user_id = str(user.pk)
    for key, data in rows.iterator():
        store = store_class(key)
        if str(store.decode(data).get(SESSION_KEY, "")) == user_id:
            store.delete()
            ended += 1
    return ended
