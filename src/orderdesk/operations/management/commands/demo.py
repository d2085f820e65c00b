from django.core.management.base import BaseCommand, CommandError

from orderdesk.operations.demo import MINIMUM_ORDERS, demo_load, demo_logins_text
from orderdesk.operations.demo_bulk import BULK_FROM_ORDERS, demo_bulk_load


class Command(BaseCommand):
    help = "Load demo staff log-ins and realistic orders over every payment state (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=200, help="how many orders (default 200)")

    def handle(self, *args, orders=200, **options):
        if orders < MINIMUM_ORDERS:
            raise CommandError(f"--orders must be at least {MINIMUM_ORDERS}")
        if orders >= BULK_FROM_ORDERS:
            self.stdout.write(f"Loading a large demo data set ({orders:,} orders, bulk SQL)…")
            demo_bulk_load(order_count=orders, write=self.stdout.write)
            self.stdout.write(demo_logins_text())
            return
        self.stdout.write(f"Loading demo data ({orders} orders)…")
        made = demo_load(order_count=orders, write=self.stdout.write)
        if made:
            summary = ", ".join(f"{name} {count}" for name, count in sorted(made.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo orders created: {summary}"))
        self.stdout.write(demo_logins_text())
