"""``manage.py sweep_outbox``: recover messages left by lost tasks or dead workers."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from communications.sweeper import sweep


class Command(BaseCommand):
    help = (
        "Hand out again queued messages whose task was lost, and reconcile those "
        "left in 'sending' by a worker that died (beat: every 5 minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="Seconds (default: the COMMUNICATIONS_* settings). Use 0 only "
            "when no worker is running.",
        )

    def handle(self, *args, older_than=None, **options):
        age = timedelta(seconds=older_than) if older_than is not None else None
        result = sweep(requeue_after=age, sending_after=age)
        self.stdout.write(self.style.SUCCESS(str(result)))
