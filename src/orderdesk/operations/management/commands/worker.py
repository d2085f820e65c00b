import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from orderdesk.operations.maintenance import maintenance_run

logger = logging.getLogger("orderdesk.worker")


class Command(BaseCommand):
    help = "Run background work: e-mail, CRM messages, and the scheduled expiry sweep and reconciliation."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="drain the queue once and exit")
        parser.add_argument(
            "--no-schedule", action="store_true", help="do not run the sweep schedule"
        )

    def handle(self, *args, batch=False, no_schedule=False, **options):
        stop = threading.Event()
        if not no_schedule and not batch:
            threading.Thread(target=self._schedule, args=(stop,), daemon=True).start()
            threading.Thread(target=self._crm_schedule, args=(stop,), daemon=True).start()
        if batch:
            self.stdout.write(f"maintenance: {maintenance_run()}")
        try:
            if settings.TASK_BACKEND.startswith("django_tasks_rq."):
                call_command(
                    "rqworker",
                    *settings.TASKS["default"]["QUEUES"],
                    job_class="django_tasks_rq.backend.Job",  # runs Django Tasks
                    with_scheduler=True,  # deferred retries need RQ's scheduler
                    burst=batch,
                    verbosity=options.get("verbosity", 1),
                )
            else:
                call_command(
                    "db_worker",
                    queue_name="*",
                    interval=1,
                    batch=batch,
                    verbosity=options.get("verbosity", 1),
                )
        finally:
            stop.set()

    def _schedule(self, stop: threading.Event) -> None:
        while not stop.is_set():
            results = maintenance_run()
            logger.info("maintenance ran: %s", results)
            stop.wait(settings.ORDERDESK_SWEEP_INTERVAL_SECONDS)

    def _crm_schedule(self, stop: threading.Event) -> None:
        """Changes reach the CRM within seconds, not at the next sweep: the relay reads a
        partial index of the orders behind, so a run with nothing to send costs one probe."""
        from django.db import close_old_connections

        from orderdesk.crm.sync import crm_syncs_relay

        while not stop.wait(settings.ORDERDESK_CRM_SYNC_INTERVAL_SECONDS):
            try:
                crm_syncs_relay()
            except Exception:  # a database hiccup must not end the schedule
                logger.exception("CRM sync relay failed")
            close_old_connections()
