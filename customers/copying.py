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
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def copy_rows(
    model: type[Model], attnames: Sequence[str], rows: Iterable[tuple]
) -> None:
    """COPY the rows (values in the order of `attnames`) into the model's table."""
    meta, quote = model._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in attnames)
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    # cursor.cursor: psycopg's own cursor under Django's; COPY has no Django API.
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
