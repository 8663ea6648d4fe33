from customers.management.commands._import import ImportCommand
from loyalty.imports import OpeningBalanceImporter


class Command(ImportCommand):
    help = (
        "Import loyalty opening balances from CSV (customer, points, earned_at, "
        "expires_at): one lot per row; a re-imported row is skipped."
    )

    def make_importer(self, options) -> OpeningBalanceImporter:
        return OpeningBalanceImporter(dry_run=options["dry_run"], by=options.get("by"))
