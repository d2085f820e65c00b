"""Outbox rows are the truth; a task only wakes a worker.

Every outbox (e-mail, CRM) keeps on its row the id of the task last enqueued for it. A
relay, run on the worker's schedule, wakes again every due row whose task is missing, has
failed or finished without delivering it, or has been running for longer than any delivery
takes (a worker killed mid-task leaves it RUNNING for ever: django-tasks-db has no lease).
Deliveries are safe to run twice, so a second wake costs one skipped task at most.

Only the Django Tasks API is used here, so the same relay serves every task backend.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.conf import settings
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist


def stale_after() -> timedelta:
    """How long a task may run before it counts as lost with its worker."""
    return timedelta(seconds=settings.ORDERDESK_TASK_STALE_SECONDS)


def task_wake(task, *, run_after: datetime | None = None, **arguments) -> str:
    """Enqueue `task` (later, when the backend can defer) and return the id to keep on the row."""
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    return task.enqueue(**arguments).id


def task_alive(task, task_id: str, *, moment: datetime) -> bool:
    """Will the task with this id still deliver its row? False when it is missing, has
    failed, has finished (the row is still due, so it did not deliver) or has gone stale."""
    if not task_id:
        return False
    backend = task.get_backend()
    if not backend.supports_get_result:
        return False
    try:
        result = backend.get_result(task_id)
    except TaskResultDoesNotExist:
        return False
    if result.status == TaskResultStatus.READY:
        return True
    if result.status == TaskResultStatus.RUNNING:
        started = result.started_at or result.enqueued_at
        if started is not None and started.tzinfo is None:  # RQ keeps naive UTC times
            started = started.replace(tzinfo=timezone.utc)
        return started is not None and started > moment - stale_after()
    return False


def rows_relay(due, task, *, argument: str, moment: datetime, limit: int, log) -> int:
    """Wake each row of `due` (a queryset of due outbox rows, each with a `task_id`) whose
    task will not deliver it: enqueue `task` with the row's id as `argument`, keep the new
    task's id on the row unless it was settled meanwhile, and log it. Returns how many."""
    woken = 0
    for row_id, task_id in due.values_list("pk", "task_id")[:limit]:
        if task_alive(task, task_id, moment=moment):
            continue
        new_task = task_wake(task, **{argument: row_id})
        due.filter(pk=row_id).update(task_id=new_task)
        log(row_id, task_id)
        woken += 1
    return woken
