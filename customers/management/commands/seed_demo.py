"""``manage.py seed_demo``: deterministic demo customers with two years of history.

The same ``--seed`` on the same day gives the same data (see ``customers.demo``):
dates are counted back from today at midnight in the business time zone, so a
seed run tomorrow shifts by one day. The customers and their history are written
in one transaction, with COPY on PostgreSQL and ``bulk_create`` elsewhere; the
other apps' demo seeders (settings.CRM_DEMO_SEEDERS: loyalty, then outreach)
follow. 100,000 customers take under 4 minutes on PostgreSQL on a 2-core VM,
those seeders included (docs/benchmarks.md).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from customers.database import is_postgresql
from customers.demo import demo_data_exists, seed_demo_data
from customers.models import Customer, Feedback, Interaction, Purchase
from customers.wiring import run_demo_seeders


class Command(BaseCommand):
    help = "Load deterministic demo customers, purchases, interactions and feedback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=500, help="How many (default 500)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (default 1)."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when any customer exists already.",
        )

    def handle(self, *args, customers: int, seed: int, if_empty: bool, **options):
        if customers < 0:
            raise CommandError("--customers cannot be negative.")
        if if_empty and Customer.objects.exists():
            self.stdout.write("Customers exist already; no demo data loaded.")
            return
        if demo_data_exists():
            raise CommandError(
                "Demo data is loaded already (its order numbers would collide); "
                "delete the customers first, or use --if-empty."
            )
        started = time.monotonic()

        def progress(done: int) -> None:
            if options["verbosity"] > 1:
                elapsed = time.monotonic() - started
                self.stdout.write(f"  {done:,} customers ({elapsed:.1f} s)")

        summary = seed_demo_data(customers=customers, seed=seed, progress=progress)
        if is_postgresql() and summary.customers:
            # Autovacuum would analyze the new rows a minute later; until then the
            # planner guesses from the empty tables' statistics.
            with connection.cursor() as cursor:
                for model in (Customer, Purchase, Interaction, Feedback):
                    cursor.execute(f"ANALYZE {model._meta.db_table}")
                cursor.execute(f"ANALYZE {Customer.tags.through._meta.db_table}")
        # Other apps' demo data (loyalty members, outreach rules) on top.
        extras = run_demo_seeders(seed) if summary.customers else []
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.customers:,} customers (seed {seed}) in "
                f"{elapsed:.1f} s: {summary.purchases:,} purchases "
                f"({summary.refunds:,} refunded), {summary.interactions:,} "
                f"interactions, {summary.feedback:,} feedback, "
                f"{summary.follow_ups:,} open follow-ups, {summary.tag_links:,} tag "
                f"links, {summary.consent_changes:,} consent records. Staff: "
                f"{', '.join(summary.staff)}."
            )
        )
        for line in extras:
            self.stdout.write(line)
