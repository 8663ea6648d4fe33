"""``manage.py restore FILE``: a backup into an empty database (docs/operations.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the database DATABASE_URL "
        "names, which must be empty. Then run `manage.py migrate` (a no-op unless "
        "the code is newer) and `manage.py loyalty_audit`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        try:
            restore(file)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {file}."))
