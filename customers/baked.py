"""Querysets compiled to SQL once, then run again with another key.

Django compiles a queryset to SQL each time it is evaluated. For the customer
page's big queries (the timeline's UNION over five tables) compiling took four
times as long as PostgreSQL took to answer. A BakedQuery compiles its queryset
once per database connection, with a placeholder key, and afterwards only puts
the real key in the placeholder's parameter slots: SQLAlchemy's "baked
queries", for ``values_list()`` querysets.

Only a whole-number key (a primary key) can be baked: Django passes integers
through to the driver unchanged, so the placeholder is found again among the
compiled parameters.

On PostgreSQL the statement is also prepared on the server at its first run,
so PostgreSQL stops parsing and planning it again too (planning the timeline's
UNION took longer than running it). Django leaves prepared statements off for
the sake of connection poolers in transaction mode; a baked query is prepared
only when ``settings.PREPARE_BAKED_QUERIES`` is on (the default).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# A key no row has (serials are positive), not a number a filter might hold
# for another reason, and inside a 32-bit integer column's range: Django
# compiles a comparison with an out-of-range number to "matches nothing".
PLACEHOLDER = -2_000_000_007
# Compiled statements kept per connection.
MAX_BAKED = 64


class BakedQuery:
    """``build(key)`` returns a ``values_list()`` queryset; run it for any key.

    ``rows(key)`` gives what ``list(build(key))`` would, ``count(key)`` what
    ``build(key).count()`` would. Extra SQL can be put around the compiled
    statement (a LIMIT, an outer WHERE) with ``wrap``.
    """

    def __init__(self, build: Callable[[int], QuerySet], name: Hashable) -> None:
        self.build = build
        self.name = name

    def _compiled(self, connection):
        # Kept on the connection object: each thread has its own, and so its
        # own compiler (a compiler holds its connection).
        baked = connection.__dict__.setdefault("_crm_baked", {})
        entry = baked.get(self.name)
        if entry is None:
            compiler = self.build(PLACEHOLDER).query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            slots = [i for i, value in enumerate(params) if _is_placeholder(value)]
            if not slots:
                raise ValueError(f"{self.name!r}: the key is not among the parameters.")
            entry = baked[self.name] = (compiler, sql, tuple(params), slots)
            if len(baked) > MAX_BAKED:
                # A name may hold a day (a "due today" count): drop the oldest.
                del baked[next(iter(baked))]
        return entry

    def _params(self, params: Sequence[Any], slots: list[int], key: int) -> list:
        filled = list(params)
        for slot in slots:
            filled[slot] = key
        return filled

    def rows(
        self,
        key: int,
        *,
        wrap: str = "{sql}",
        extra: Sequence[Any] = (),
        using: str = DEFAULT_DB_ALIAS,
    ) -> list[tuple]:
        """The rows for `key`, converted as Django converts them.

        `wrap` is SQL around the statement (``{sql}`` stands for it) that keeps
        its columns, e.g. ``"{sql} LIMIT %s OFFSET %s"``; `extra` are the
        parameters of the SQL it adds, after the statement's own.
        """
        connection = connections[using]
        compiler, sql, params, slots = self._compiled(connection)
        with _cursor(connection) as cursor:
            cursor.execute(
                wrap.format(sql=sql), [*self._params(params, slots, key), *extra]
            )
            fetched = cursor.fetchall()
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))

    def count(self, key: int, *, using: str = DEFAULT_DB_ALIAS) -> int:
        connection = connections[using]
        _, sql, params, slots = self._compiled(connection)
        with _cursor(connection) as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM ({sql}) baked", self._params(params, slots, key)
            )
            return cursor.fetchone()[0]


def _cursor(connection):
    """A cursor that prepares its statements, on PostgreSQL; else a plain one.

    It is wrapped as Django wraps its own cursors, so query logging, counting
    (django_assert_num_queries) and execute wrappers see it.
    """
    if connection.vendor != "postgresql" or not settings.PREPARE_BAKED_QUERIES:
        return connection.cursor()
    connection.ensure_connection()
    raw = _PreparingCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _preparing_cursor_class():
    import psycopg

    class PreparingCursor(psycopg.Cursor):
        """Binds on the server and prepares every statement at its first run."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            prepare = True if prepare is None else prepare
            return super().execute(query, params, prepare=prepare, binary=binary)

    return PreparingCursor


try:
    _PreparingCursor = _preparing_cursor_class()
except ImportError:  # no psycopg: SQLite only, where nothing is prepared
    _PreparingCursor = None


def _is_placeholder(value: Any) -> bool:
    return type(value) is int and value == PLACEHOLDER
