"""Telling the audit triggers who is acting.

The triggers read the transaction-local settings ``crm.actor`` (a user id) and
``crm.origin`` (a page, command or task). ActorWrapper, a Django execute
wrapper, sets both with one ``set_config(..., true)`` before the first statement
of each transaction on the connection: one extra round trip per transaction,
none for reads outside a transaction (most page views). A write outside any
transaction (autocommit) is run inside one so the settings apply to it.

Web requests are attributed by crm.audit.actor.AuditActorMiddleware; commands,
import jobs and tasks wrap their work in ``acting_as(user, origin=...)``. The
setting is local to the transaction, so it can never leak into another
request's work on a reused connection.

It lives in customers, the app every other imports, so that customers' own
imports can name their user; the triggers and the audit trail are crm's
(crm/audit/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from .database import is_postgresql

SET_ACTOR_SQL = (
    "SELECT set_config('crm.actor', %s, true), set_config('crm.origin', %s, true)"
)
# Statements that can change rows; anything else outside a transaction is left
# alone. WITH may begin a data-modifying statement.
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "COPY")
ORIGIN_LENGTH = 200


def _is_write(sql: str) -> bool:
    return sql.lstrip()[:6].upper().startswith(WRITE_VERBS)


class ActorWrapper:
    """Sets crm.actor/crm.origin once per transaction on its connection."""

    def __init__(self, actor: Callable[[], int | None], origin: str = "") -> None:
        self.actor = actor
        self.origin = origin[:ORIGIN_LENGTH]
        self._busy = False

    def __call__(self, execute, sql, params, many, context):
        connection = context["connection"]
        if self._busy or not is_postgresql(connection):
            return execute(sql, params, many, context)
        autocommit = connection.get_autocommit()
        if autocommit and not _is_write(sql):
            # A read outside a transaction (most of a page view): nothing to set.
            # The stale-state check below runs before the next transaction's
            # first statement, while the connection is still idle.
            return execute(sql, params, many, context)
        if not self._is_innermost(connection):
            return execute(sql, params, many, context)
        raw = connection.connection
        state = connection.__dict__.setdefault("_crm_audit_state", {})
        if raw.info.transaction_status == _IDLE:
            # No transaction open: whatever was set belonged to an ended one.
            state["set_by"] = None
        if autocommit:
            values = self._values()
            with transaction.atomic(using=connection.alias):
                self._set(raw, values, state)
                return execute(sql, params, many, context)
        if state.get("set_by") is not self:
            self._set(raw, self._values(), state)
        return execute(sql, params, many, context)

    def _is_innermost(self, connection) -> bool:
        # Nested acting_as(): the most recently installed wrapper speaks.
        for wrapper in reversed(connection.execute_wrappers):
            if isinstance(wrapper, ActorWrapper):
                return wrapper is self
        return False

    def _values(self) -> tuple[str, str]:
        self._busy = True  # resolving the user may itself query the database
        try:
            actor = self.actor()
        finally:
            self._busy = False
        return ("" if actor is None else str(actor), self.origin)

    def _set(self, raw_connection, values: tuple[str, str], state: dict) -> None:
        # A cursor of the driver's own: no wrappers (no recursion), and never the
        # statement's cursor, which may be a server-side one.
        with raw_connection.cursor() as cursor:
            cursor.execute(SET_ACTOR_SQL, values)
        state["set_by"] = self


def _transaction_idle_status():
    from psycopg import pq

    return pq.TransactionStatus.IDLE


try:
    _IDLE = _transaction_idle_status()
except ImportError:  # no psycopg: SQLite only, where the wrapper does nothing
    _IDLE = None


def user_id_of(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


@contextmanager
def acting_as(
    user=None, *, origin: str = "", using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    """Attribute every change made inside the block to `user` (None: the system).

    ``with acting_as(None, origin="command:import_customers"): ...``
    """
    wrapper = ActorWrapper(lambda: user_id_of(user), origin)
    with connections[using].execute_wrapper(wrapper):
        yield
