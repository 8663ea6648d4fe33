"""Running the metrics' SQL on PostgreSQL and SQLite alike.

The ORM writes the inner, per-row and per-customer queries (it knows each
backend's time zone conversion and parameter forms); this module wraps them in a
second level of plain SQL where a figure is an aggregate of aggregates (GROUP BY
over a GROUP BY, a window over grouped rows), which the ORM cannot express. The
outer SQL uses only what both databases share: CTEs, CASE, SUM/COUNT/MIN/MAX,
COUNT(DISTINCT), and the window functions MIN() OVER and PERCENT_RANK().
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_date

from customers.database import is_postgresql

# Per sort or hash of one query, on PostgreSQL, inside analytics() only.
ANALYTICS_WORK_MEM = "64MB"


def adapt(value: Any) -> Any:
    """A parameter in the form the database compares with stored values.

    SQLite stores datetimes as naive UTC text and dates as ISO text; PostgreSQL
    takes both as they are.
    """
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def as_date(value: Any) -> date | None:
    """A day read back from SQL (a date on PostgreSQL, ISO text on SQLite)."""
    if value is None or isinstance(value, date):
        return value
    return parse_date(str(value)[:10])


def as_decimal(value: Any) -> Decimal:
    """Money read back from SQL, to the cent (SQLite sums come back as floats)."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Relation:
    """A named SELECT: one row per customer (or per customer and day).

    Built from an ORM queryset or from other relations; read by aggregating it
    (``fetch``) or by taking the customers it holds (``customer_ids``).
    """

    sql: str
    params: tuple

    @classmethod
    def of(cls, queryset: QuerySet) -> Relation:
        sql, params = queryset.query.sql_with_params()
        return cls(sql, tuple(params))

    def select(
        self,
        select: str,
        params: tuple = (),
        *,
        alias: str = "t",
        tail: str = "",
        tail_params: tuple = (),
    ) -> Relation:
        """A new relation: ``SELECT <select> FROM (<this>) <alias> <tail>``.

        ``params`` fill the placeholders of ``select``, ``tail_params`` those of
        ``tail`` (a WHERE, GROUP BY, ORDER BY ...).
        """
        return Relation(
            f"SELECT {select} FROM ({self.sql}) {alias} {tail}".rstrip(),
            tuple(adapt(p) for p in params)
            + self.params
            + tuple(adapt(p) for p in tail_params),
        )

    def fetch(
        self, select: str, params: tuple = (), *, tail: str = "", tail_params=()
    ) -> list[dict]:
        """Rows of ``SELECT <select> FROM (<this>) t <tail>`` as dictionaries."""
        return fetch_all(
            self.select(select, params, tail=tail, tail_params=tail_params)
        )

    def fetch_one(
        self, select: str, params: tuple = (), *, tail: str = "", tail_params=()
    ) -> dict:
        return self.fetch(select, params, tail=tail, tail_params=tail_params)[0]

    def count(self, where: str = "1 = 1", params: tuple = ()) -> int:
        """How many rows match ``where``."""
        return self.fetch_one(
            "COUNT(*) AS n", tail=f"WHERE {where}", tail_params=params
        )["n"]

    def customer_ids(self, where: str = "1 = 1", params: tuple = ()) -> RawSQL:
        """The customer ids of the rows matching ``where``, for ``pk__in=``."""
        sql = f"SELECT t.customer_id FROM ({self.sql}) t WHERE {where}"
        return RawSQL(sql, self.params + tuple(adapt(p) for p in params))


@contextmanager
def materialized(relation: Relation, name: str) -> Iterator[Relation]:
    """The relation computed once into a temporary table, read many times.

    Temporary tables belong to one connection, so two requests computing at once
    do not see each other's. The table is dropped on the way out.
    """
    table = connection.ops.quote_name(f"metrics_{name}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {table} AS {relation.sql}", relation.params
        )
        try:
            yield Relation(f"SELECT * FROM {table}", ())
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def join(
    left: Relation,
    right: Relation,
    *,
    on: str,
    select: str,
    params: tuple = (),
    tail: str = "",
    tail_params: tuple = (),
) -> Relation:
    """``SELECT <select> FROM (<left>) p JOIN (<right>) f ON <on> <tail>``."""
    return Relation(
        f"SELECT {select} FROM ({left.sql}) p JOIN ({right.sql}) f ON {on} {tail}",
        tuple(adapt(p) for p in params)
        + left.params
        + right.params
        + tuple(adapt(p) for p in tail_params),
    )


def fetch_all(relation: Relation) -> list[dict]:
    """Every row of the relation, as dictionaries."""
    with connection.cursor() as cursor:
        cursor.execute(relation.sql, relation.params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@contextmanager
def analytics() -> Iterator[None]:
    """One transaction for a set of large read-only aggregates.

    On PostgreSQL, for this transaction only: the JIT compiler is off (on these
    one-pass aggregates it spends longer compiling, about a second, than it
    saves), and sorts and hashes may use more memory than the default 4 MB, so
    ranking 100,000 customers stays in memory instead of spilling to disk.
    """
    with transaction.atomic():
        if is_postgresql(connection):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute(f"SET LOCAL work_mem = '{ANALYTICS_WORK_MEM}'")
        yield
