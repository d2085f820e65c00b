from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _roles_after_migrate(sender, **kwargs):
    from django.apps import apps

    if sender.label != list(apps.get_app_configs())[-1].label:
        return
    from orderdesk.accounts.services import roles_ensure

    roles_ensure()


class AccountsConfig(AppConfig):
    name = "orderdesk.accounts"
    label = "accounts"

    def ready(self):
        # After the last installed app migrates, when every app's permissions exist.
        post_migrate.connect(
            _roles_after_migrate, sender=None, dispatch_uid="orderdesk-roles", weak=False
        )
