"""What the import commands share: open the file, run, print the report.

Every change is recorded in the audit trail with the origin
``command:<name>``, as the user named by ``--as-user`` or else as the system.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from customers.audit_actor import acting_as
from customers.csv_input import CsvFileError
from customers.imports import Importer


class ImportCommand(BaseCommand):
    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A UTF-8 CSV file (comma or semicolon).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and report what would happen; write nothing.",
        )
        parser.add_argument(
            "--as-user",
            metavar="USERNAME",
            help="Record the changes as this active user's (in the audit trail and "
            "as the rows' author); without it they are the system's.",
        )

    def make_importer(self, options) -> Importer:
        raise CommandError(
            "Use import_customers, import_purchases or import_interactions."
        )

    @property
    def command_name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]

    def acting_user(self, username: str | None):
        """The active user named by --as-user, or None (the system)."""
        if username is None:
            return None
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"--as-user: no user has the username {username!r}.")
        if not user.is_active:
            raise CommandError(
                f"--as-user: the user {username!r} is deactivated; name an active one."
            )
        return user

    def handle(self, *args, **options) -> None:
        user = self.acting_user(options.get("as_user"))
        importer = self.make_importer({**options, "by": user})
        try:
            with (
                acting_as(user, origin=f"command:{self.command_name}"),
                open(options["file"], "rb") as stream,
            ):
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
        for note in report.notes:
            self.stdout.write(note)
        if options["dry_run"] or options["verbosity"] >= 2:
            for change in report.updates:
                self.stdout.write(
                    f"Line {change.line} ({change.who}): {'; '.join(change.changes)}"
                )
        for problem in report.rejected:
            self.stderr.write(f"Rejected {problem}")
        self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError(
                f"{len(report.rejected)} rows were rejected (see above).", returncode=1
            )
