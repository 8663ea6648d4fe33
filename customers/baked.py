"""Querysets compiled to SQL once, then run again with another key.

Django compiles a queryset to SQL each time it is evaluated. For the customer
page's big queries (the timeline's UNION over five tables) compiling took four
times as long as PostgreSQL took to answer. A BakedQuery compiles its queryset
once per database connection, with a placeholder key, and afterwards only puts
the real key in the placeholder's parameter slots: SQLAlchemy's "baked
queries", for Django querysets. The pages that staff open all day (a customer,
the lists, the nav bar on every page) read through them.

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

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

# A key no row has (serials are positive), not a number a filter might hold
# for another reason, and inside a 32-bit integer column's range: Django
# compiles a comparison with an out-of-range number to "matches nothing".
PLACEHOLDER = -2_000_000_007
# Compiled statements kept per connection.
MAX_BAKED = 64


class BakedQuery:
    """``build(key)`` returns a queryset; run it again for any key.

    ``rows(key)`` gives what ``list(build(key))`` gives for a ``values_list()``
    queryset, ``instances(key)`` what it gives for a queryset of model objects
    (``select_related`` included), ``count(key)`` what ``build(key).count()``
    gives. Extra SQL can be put around the compiled statement (a LIMIT, an
    outer WHERE) with ``wrap``. With ``keyed=False`` the queryset takes no key
    (``build()``): a short list of tags, say.
    """

    def __init__(
        self, build: Callable[..., QuerySet], name: Hashable, *, keyed: bool = True
    ) -> None:
        self.build = build
        self.name = name
        self.keyed = keyed

    def _compiled(self, connection) -> _Compiled:
        # Kept on the connection object: each thread has its own, and so its
        # own compiler (a compiler holds its connection).
        baked = connection.__dict__.setdefault("_crm_baked", {})
        entry = baked.get(self.name)
        if entry is None:
            queryset = self.build(PLACEHOLDER) if self.keyed else self.build()
            compiler = queryset.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            slots = [i for i, value in enumerate(params) if _is_placeholder(value)]
            if self.keyed and not slots:
                raise ValueError(f"{self.name!r}: the key is not among the parameters.")
            entry = baked[self.name] = _Compiled(compiler, sql, tuple(params), slots)
            if len(baked) > MAX_BAKED:
                # A name may hold a day (a "due today" count): drop the oldest.
                del baked[next(iter(baked))]
        return entry

    def _fetch(
        self, key: int | None, wrap: str, extra: Sequence[Any], using: str
    ) -> tuple[_Compiled, list]:
        connection = connections[using]
        compiled = self._compiled(connection)
        filled = list(compiled.params)
        for slot in compiled.slots:
            filled[slot] = key
        with _cursor(connection) as cursor:
            cursor.execute(wrap.format(sql=compiled.sql), [*filled, *extra])
            return compiled, cursor.fetchall()

    def rows(
        self,
        key: int | None = None,
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
        compiled, fetched = self._fetch(key, wrap, extra, using)
        return [tuple(row) for row in compiled.converted(fetched)]

    def instances(
        self,
        key: int | None = None,
        *,
        wrap: str = "{sql}",
        extra: Sequence[Any] = (),
        using: str = DEFAULT_DB_ALIAS,
    ) -> list[Model]:
        """The model objects for `key`, made as Django's ModelIterable makes them."""
        compiled, fetched = self._fetch(key, wrap, extra, using)
        model, names, start, end, populators = compiled.model_maker(using)
        annotations = compiled.compiler.annotation_col_map.items()
        objects = []
        for row in compiled.converted(fetched):
            obj = model.from_db(using, names, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for attribute, position in annotations:
                setattr(obj, attribute, row[position])
            objects.append(obj)
        return objects

    def count(self, key: int | None = None, *, using: str = DEFAULT_DB_ALIAS) -> int:
        _, fetched = self._fetch(key, "SELECT COUNT(*) FROM ({sql}) baked", (), using)
        return fetched[0][0]


class _Compiled:
    """A compiled statement, and what turning its rows into values needs."""

    def __init__(self, compiler, sql: str, params: tuple, slots: list[int]) -> None:
        self.compiler, self.sql, self.params, self.slots = compiler, sql, params, slots
        columns = [column[0] for column in compiler.select[: compiler.col_count]]
        # Worked out once, as results_iter() would on every call.
        self.converters = compiler.get_converters(columns)
        self._model_makers: dict[str, tuple] = {}

    def converted(self, rows: list) -> Iterable:
        if not self.converters:
            return rows
        return self.compiler.apply_converters(rows, self.converters)

    def model_maker(self, using: str) -> tuple:
        """As ModelIterable works it out: the model, its loaded fields' names,
        where they sit in a row, and the select_related objects' populators."""
        if using not in self._model_makers:
            select, klass_info = self.compiler.select, self.compiler.klass_info
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            names = [column[0].target.attname for column in select[start:end]]
            populators = get_related_populators(klass_info, select, using)
            self._model_makers[using] = (
                klass_info["model"],
                names,
                start,
                end,
                populators,
            )
        return self._model_makers[using]


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
