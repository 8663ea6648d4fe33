"""Backups of the whole database, and their restore into an empty one.

PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot taken while the app
runs; every table, the audit trail's triggers and functions, the pg_trgm
extension) and ``pg_restore`` into an empty database. SQLite: the sqlite3 online
backup API, page by page, and a copy back. Redis holds nothing that a restore
needs (the broker's queue and the cache); docs/operations.md says why.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connections

from customers.database import is_postgresql


class BackupError(Exception):
    """pg_dump or pg_restore failed; the message is theirs."""


def _pg_arguments(settings: dict) -> tuple[list[str], dict[str, str]]:
    arguments = ["--host", settings.get("HOST") or "localhost"]
    if settings.get("PORT"):
        arguments += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        arguments += ["--username", settings["USER"]]
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]  # never on the command line
    return arguments, env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def back_up(path: Path, *, using: str = "default") -> Path:
    """Write a backup of the database to `path` (replaced if it exists)."""
    connection = connections[using]
    settings = connection.settings_dict
    path = Path(path)
    if is_postgresql(connection):
        arguments, env = _pg_arguments(settings)
        _run(
            ["pg_dump", *arguments, "--format=custom", "--no-owner",
             "--file", str(path), settings["NAME"]],
            env,
        )  # fmt: skip
        return path
    if connection.vendor == "sqlite":
        source = sqlite3.connect(settings["NAME"])
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return path
    raise BackupError(f"No backup for a {connection.vendor} database.")


def restore(path: Path, *, using: str = "default") -> None:
    """Restore a backup into the (empty) database of `using`.

    Refuses a database that holds tables: a restore never overwrites data.
    """
    connection = connections[using]
    settings = connection.settings_dict
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(
            f"The database {settings['NAME']} is not empty ({len(tables)} tables): "
            "restore into a new, empty database and point DATABASE_URL at it."
        )
    connection.close()
    if is_postgresql(connection):
        arguments, env = _pg_arguments(settings)
        _run(
            ["pg_restore", *arguments, "--no-owner", "--exit-on-error",
             "--dbname", settings["NAME"], str(path)],
            env,
        )  # fmt: skip
        return
    if connection.vendor == "sqlite":
        shutil.copyfile(path, settings["NAME"])
        return
    raise BackupError(f"No restore for a {connection.vendor} database.")
