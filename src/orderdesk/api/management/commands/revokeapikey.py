from django.core.management.base import BaseCommand, CommandError

from orderdesk.api.keys import api_key_revoke
from orderdesk.api.models import ApiKey


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (the part after od_ up to the next underscore)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix: str, **options):
        try:
            api_key = api_key_revoke(prefix=prefix)
        except ApiKey.DoesNotExist as error:
            raise CommandError(f"no API key with prefix {prefix}") from error
        self.stdout.write(f"revoked {api_key}")
