from customers.purchase_import import PurchaseImporter

from ._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Import purchases from CSV by record_purchase's rules: a re-imported "
        "order (same reference, or same customer, time and amount) is skipped."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="Create customers the file names but the CRM does not know.",
        )

    def make_importer(self, options) -> PurchaseImporter:
        return PurchaseImporter(
            dry_run=options["dry_run"],
            create_missing=options["create_missing"],
            by=options.get("by"),
        )
