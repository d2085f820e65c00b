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
            if isinstance(schedule, multiprocessing.process.BaseProcess):
                schedule.terminate()


def schedule_start(stop: threading.Event):
    """Run the schedule beside the worker: a thread beside the database worker; a process of
    its own beside RQ's. RQ forks a process for every job and for its scheduler, and a fork
    copies a lock another thread holds without the thread that would release it: a fork
    made while the schedule thread was importing a module left the job's process waiting on
    that module's import lock for ever, and the worker waiting on the job."""
    if not rq_backend():
        thread = threading.Thread(target=schedule_loop, args=(stop,), daemon=True)
        thread.start()
        return thread
    process = multiprocessing.get_context("spawn").Process(
        target=schedule_process, args=(os.getpid(),), name="orderdesk schedule", daemon=True
    )
    process.start()
    return process


def schedule_loop(stop: threading.Event, *, parent: int | None = None) -> None:
    while not stop.is_set():
        results = maintenance_run()
        logger.info("maintenance ran: %s", results)
        stop.wait(settings.ORDERDESK_SWEEP_INTERVAL_SECONDS)
        if parent is not None and os.getppid() != parent:
            return  # the worker is gone (killed): its schedule goes with it


def schedule_process(parent: int) -> None:
    """The schedule's process (a fresh interpreter): set Django up, then loop."""
    import django

    django.setup()  # the settings module is in the environment the worker was given
    schedule_loop(threading.Event(), parent=parent)
