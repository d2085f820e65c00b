import getpass

from django.core.management.base import BaseCommand, CommandError

from orderdesk.accounts.roles import ROLES
from orderdesk.accounts.services import staff_create


class Command(BaseCommand):
    help = "Create or update a staff user with a role (csr or supervisor)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), required=True)
        parser.add_argument("--password", help="non-interactive when given")
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="")

    def handle(self, *args, username, role, password=None, email="", name="", **options):
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        if len(password) < 8:
            raise CommandError("the password needs at least 8 characters")
        staff_create(username=username, role=role, password=password, email=email, name=name)
        self.stdout.write(self.style.SUCCESS(f"{username} can log in as {role}"))
