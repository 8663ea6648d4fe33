"""Make the first Owner login, printing its password once."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from customers.roles import OWNER


class Command(BaseCommand):
    help = "Create an Owner login with a random password and print it (only once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="owner")
        parser.add_argument("--email", default="owner@example.com")

    def handle(self, *args, username: str, email: str, **options) -> None:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Owner login '{username}' exists already; its password was printed "
                f"when it was made. To set a new one: "
                f"python manage.py changepassword {username}"
            )
            return
        password = secrets.token_urlsafe(12)
        # is_staff lets the Owner into the admin, where staff logins are managed.
        user = User.objects.create_user(
            username=username, email=email, password=password, is_staff=True
        )
        user.groups.add(Group.objects.get(name=OWNER))
        self.stdout.write(
            self.style.SUCCESS(
                f"Owner login made. Username: {username}  Password: {password}\n"
                "Write it down: it is not shown again."
            )
        )
