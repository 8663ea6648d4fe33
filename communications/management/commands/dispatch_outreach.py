"""``manage.py dispatch_outreach``: hand due messages to the Celery workers now."""

from django.core.management.base import BaseCommand

from communications.dispatcher import dispatch_due


class Command(BaseCommand):
    help = "Queue send tasks for the messages that are due (beat: every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=None)

    def handle(self, *args, chunk_size=None, **options):
        count = dispatch_due(chunk_size=chunk_size)
        self.stdout.write(self.style.SUCCESS(f"Dispatched {count} messages."))
