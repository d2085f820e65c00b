from django.core.management.base import BaseCommand

from orderdesk.operations.maintenance import maintenance_run


class Command(BaseCommand):
    help = "Expire lapsed authorizations and payment links, reconcile unknown outcomes (once)."

    def handle(self, *args, **options):
        for job, result in maintenance_run().items():
            self.stdout.write(f"{job}: {result}")
