from customers.interaction_import import InteractionImporter

from ._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Import interactions (calls, emails, meetings, notes) from CSV: a row "
        "matching a stored interaction (same customer, time, kind and subject) is "
        "skipped."
    )

    def make_importer(self, options) -> InteractionImporter:
        return InteractionImporter(dry_run=options["dry_run"], by=options.get("by"))
