"""Which database the app runs on, asked in one place.

PostgreSQL has paths SQLite has not (COPY, row locks, the audit triggers); the
code asks here rather than comparing vendor strings of its own.
"""

from __future__ import annotations

from django.db import connection as default_connection


def is_postgresql(connection=None) -> bool:
    """Whether `connection` (the default one if not given) is PostgreSQL."""
    return (connection or default_connection).vendor == "postgresql"
