"""``manage.py plan_outreach``: run the planner now (beat runs it every 5 minutes)."""

from django.core.management.base import BaseCommand

from communications.planner import plan_outreach


class Command(BaseCommand):
    help = "Write the messages that follow-up rules and due campaigns call for."

    def handle(self, *args, **options):
        result = plan_outreach()
        for source, count in result.created.items():
            self.stdout.write(f"{source}: {count}")
        self.stdout.write(self.style.SUCCESS(f"Planned {result.total} messages."))
