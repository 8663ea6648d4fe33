"""Every web request's changes attributed to its user in the audit trail.

The transaction-local settings the triggers read are set by
customers.audit_actor.ActorWrapper, which commands and jobs use through
``acting_as``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

from customers.audit_actor import ActorWrapper, user_id_of


class AuditActorMiddleware:
    """Every change a request makes is attributed to the logged-in user.

    The user is looked up only when the request first writes, so read-only
    requests cost nothing; an API request authenticated by token is attributed
    to the token's user (DRF sets it on the request before the view writes).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = f"{request.method} {request.path}"
        wrapper = ActorWrapper(
            lambda: user_id_of(getattr(request, "user", None)), origin
        )
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(wrapper):
            return self.get_response(request)
