"""``manage.py seed_loyalty_demo [--seed S]``: a loyalty program over the demo data.

Run after ``seed_demo``; does nothing when members exist already.
"""

from django.core.management.base import BaseCommand, CommandParser

from loyalty.demo import seed_loyalty_demo


class Command(BaseCommand):
    help = "Set up a demo loyalty program with members, points and redemptions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (default 1)."
        )

    def handle(self, *args, seed: int, **options) -> None:
        summary = seed_loyalty_demo(seed)
        if summary.skipped:
            self.stdout.write("Loyalty members exist already; no demo loyalty data.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Loyalty demo: {summary.members:,} members, "
                f"{summary.points_earned:,} points earned, "
                f"{summary.points_expired:,} expired, "
                f"{summary.redemptions:,} redemptions."
            )
        )
