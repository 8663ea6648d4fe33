"""What the import commands share: open the file, run, print the report."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from customers.imports import CsvFileError, Importer


class ImportCommand(BaseCommand):
    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A UTF-8 CSV file (comma or semicolon).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and report what would happen; write nothing.",
        )

    def make_importer(self, options) -> Importer:
        raise CommandError(
            "Use import_customers, import_purchases or import_interactions."
        )

    def handle(self, *args, **options) -> None:
        importer = self.make_importer(options)
        try:
            with open(options["file"], "rb") as stream:
                report = importer.run(stream)
        except FileNotFoundError:
            raise CommandError(f"No such file: {options['file']}") from None
        except CsvFileError as error:
            raise CommandError(str(error)) from None
        except DatabaseError as error:
            raise CommandError(
                f"The database failed during the import ({error}). Each row (and a "
                "purchases file on PostgreSQL as a whole) is all or nothing, so "
                "nothing is half written: run the same command again and what is "
                "already in is skipped."
            ) from None
        for problem in report.rejected:
            self.stderr.write(f"Rejected {problem}")
        self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError(
                f"{len(report.rejected)} rows were rejected (see above).", returncode=1
            )
