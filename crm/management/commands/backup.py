"""``manage.py backup FILE``: the whole database to one file (docs/operations.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.backups import BackupError, back_up


class Command(BaseCommand):
    help = (
        "Back up the whole database to FILE (PostgreSQL: pg_dump's custom format; "
        "SQLite: a copy). Safe while the app runs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        try:
            back_up(file)
        except BackupError as error:
            raise CommandError(str(error)) from None
        size = file.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"Backed up to {file} ({size:,} bytes)."))
