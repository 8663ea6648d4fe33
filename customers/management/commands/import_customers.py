from customers.imports import CustomerImporter

from ._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Import customers from CSV: rows match existing customers by reference, "
        "then email; re-importing updates, never duplicates."
    )

    def make_importer(self, options) -> CustomerImporter:
        return CustomerImporter(dry_run=options["dry_run"], by=options.get("by"))
