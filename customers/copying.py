"""PostgreSQL's COPY for bulk writers (the demo seeder, the purchases import).

COPY through psycopg adapts the values in C and fires the same triggers as
INSERT (the audit trail records every row), at a fraction of what
``bulk_create`` spends preparing values in Python. It returns no ids, so a
writer that needs them draws them from the table's sequence first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model


def next_ids(model: type[Model], count: int) -> list[int]:
    """`count` new ids from the table's sequence, rising."""
    if not count:
        return []
    with connection.cursor() as cursor:
        # Named once: pg_get_serial_sequence() per row took three quarters of
        # the time for a million ids.
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)",
            [model._meta.db_table, model._meta.pk.column],
        )
        (sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
            [sequence, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def copy_rows(
    model: type[Model],
    attnames: Sequence[str],
    rows: Iterable[tuple],
    *,
    binary: bool = False,
) -> None:
    """COPY the rows (values in the order of `attnames`) into the model's table.

    ``binary``: in PostgreSQL's binary format, each value sent as its column's
    type (datetimes and Decimals as they are, with no text to parse on either
    side): about 40% less time for a million purchases than text.
    """
    meta, quote = model._meta, connection.ops.quote_name
    columns = [meta.get_field(name).column for name in attnames]
    sql = (
        f"COPY {quote(meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"
        + (" (FORMAT BINARY)" if binary else "")
    )
    # cursor.cursor: psycopg's own cursor under Django's; COPY has no Django API.
    # Its errors come as Django's (DataError, OperationalError, ...), as any
    # statement's do, for the callers that catch those.
    with connection.cursor() as cursor:
        types = _column_types(cursor, meta.db_table, columns) if binary else None
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            if types:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)


def _column_types(cursor, table: str, columns: list[str]) -> list[int]:
    """The type oid of each column, as binary COPY must send it."""
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    types = dict(cursor.fetchall())
    return [types[column] for column in columns]
