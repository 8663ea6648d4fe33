"""``manage.py loyalty_audit``: does every balance agree with its ledger?

For every member: balance = sum of the ledger's points = sum of what is left of
the lots. Also checks that each entry belongs to its membership's customer.
Lists every mismatch and exits with status 1 when there is one. Lots past their
expiry day that the nightly expiry has not reached yet are reported, not failed:
their points still count until it runs.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F
from django.utils import timezone

from loyalty.models import Membership, PointsEntry


class Command(BaseCommand):
    help = "Check that every loyalty balance equals its ledger and its lots."

    def handle(self, *args, **options) -> None:
        mismatches = list(
            Membership.objects.out_of_balance()
            .select_related("customer")
            .order_by("pk")
        )
        for membership in mismatches:
            self.stdout.write(
                f"Customer #{membership.customer_id} ({membership.customer}): "
                f"balance {membership.balance}, ledger {membership.ledger_points}, "
                f"left in lots {membership.lots_remaining}"
            )
        strays = PointsEntry.objects.exclude(customer_id=F("membership__customer_id"))
        stray_count = strays.count()
        if stray_count:
            self.stdout.write(
                f"{stray_count} points entries belong to another customer than "
                "their membership's."
            )
        overdue = PointsEntry.objects.due_to_expire(timezone.localdate()).count()
        if overdue:
            self.stdout.write(
                f"Note: {overdue} lots are past their expiry day and wait for the "
                "expiry run (expire_points)."
            )
        members = Membership.objects.count()
        if mismatches or stray_count:
            raise CommandError(
                f"{len(mismatches)} of {members} members out of balance"
                + (f", {stray_count} misfiled entries" if stray_count else "")
                + ".",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(f"All {members} balances match their ledgers.")
        )
