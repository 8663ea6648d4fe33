from customers.customer_import import CustomerImporter

from ._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Import customers from CSV: rows match existing customers by reference, "
        "then email; re-importing updates, never duplicates. A blank cell leaves the "
        "field as it is; consent changes only on an explicit true or false."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--replace-tags",
            action="store_true",
            help="A tags cell is the customer's whole list of tags (a blank cell "
            "removes them all); without it, a tags cell adds its tags and a blank "
            "cell leaves them as they are.",
        )

    def make_importer(self, options) -> CustomerImporter:
        return CustomerImporter(
            replace_tags=options.get("replace_tags", False),
            dry_run=options["dry_run"],
            by=options.get("by"),
        )
