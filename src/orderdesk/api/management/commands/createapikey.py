from django.core.management.base import BaseCommand, CommandError

from orderdesk.api.keys import api_key_create
from orderdesk.api.models import ApiKeyScope


class Command(BaseCommand):
    help = "Create an API key acting as a staff user; the key is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("name", help="what the key is for, e.g. storefront")
        parser.add_argument("--user", required=True, help="username of the staff user it acts as")
        parser.add_argument(
            "--scope",
            choices=ApiKeyScope.values,
            default=ApiKeyScope.WRITE,
            help="read: reads only; write (default): whatever the user's role allows",
        )

    def handle(self, *args, name: str, user: str, scope: str, **options):
        from django.contrib.auth import get_user_model

        try:
            api_key, key = api_key_create(name=name, username=user, scope=scope)
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"no user named {user}") from error
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stderr.write(
            f"API key {api_key.name!r} ({api_key.prefix}, scope {scope}) acts as {user}. "
            "Copy it now; it is not shown again. Send it as 'Authorization: Bearer <key>'."
        )
        self.stdout.write(key)
