import logging
import multiprocessing
import os
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from orderdesk.operations.maintenance import maintenance_run

logger = logging.getLogger("orderdesk.worker")


def rq_backend() -> bool:
    return settings.TASK_BACKEND.startswith("django_tasks_rq.")


class Command(BaseCommand):
    help = "Run background work: e-mail, CRM messages, and the scheduled expiry sweep and reconciliation."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="drain the queue once and exit")
        parser.add_argument(
            "--no-schedule", action="store_true", help="do not run the sweep schedule"
        )

    def handle(self, *args, batch=False, no_schedule=False, **options):
        stop = threading.Event()
        schedule = None
        if not no_schedule and not batch:
            schedule = schedule_start(stop)
        if batch:
            self.stdout.write(f"maintenance: {maintenance_run()}")
        try:
            if rq_backend():
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
            if schedule is not None:
                schedule.terminate()


def schedule_start(stop: threading.Event):
    """Run the schedules beside the worker: threads beside the database worker; a process
    of their own beside RQ's (returned, to be ended with the worker). RQ forks a process for
    every job and for its scheduler, and a fork copies a lock another thread holds without
    the thread that would release it: a fork made while a schedule thread was importing a
    module left the job's process waiting on that module's import lock for ever, and the
    worker waiting on the job."""
    if not rq_backend():
        schedule_threads(stop)
        return None
    process = multiprocessing.get_context("spawn").Process(
        target=schedule_process, args=(os.getpid(),), name="orderdesk schedule", daemon=True
    )
    process.start()
    return process


def schedule_threads(stop: threading.Event) -> None:
    for loop in (schedule_loop, crm_schedule_loop):
        threading.Thread(target=loop, args=(stop,), daemon=True).start()


def schedule_process(parent: int) -> None:
    """The schedules' process (a fresh interpreter): set Django up, run them, and end when
    the worker is gone (killed: nothing else would end this process)."""
    import django

    django.setup()  # the settings module is in the environment the worker was given
    stop = threading.Event()
    schedule_threads(stop)
    while not stop.wait(1):
        if os.getppid() != parent:
            stop.set()


def schedule_loop(stop: threading.Event) -> None:
    while not stop.is_set():
        results = maintenance_run()
        logger.info("maintenance ran: %s", results)
        stop.wait(settings.ORDERDESK_SWEEP_INTERVAL_SECONDS)


def crm_schedule_loop(stop: threading.Event) -> None:
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
