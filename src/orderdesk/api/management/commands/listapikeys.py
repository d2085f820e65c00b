from django.core.management.base import BaseCommand

from orderdesk.api.keys import api_keys_list


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "List API keys: prefix, name, user, scope, created, last used, revoked."

    def handle(self, *args, **options):
        self.stdout.write("prefix\tname\tuser\tscope\tcreated\tlast used\trevoked")
        for api_key in api_keys_list():
            self.stdout.write(
                "\t".join(
                    [
                        api_key.prefix,
                        api_key.name,
                        api_key.user.username,
                        api_key.scope,
                        _when(api_key.created_at),
                        _when(api_key.last_used_at),
                        _when(api_key.revoked_at),
                    ]
                )
            )
