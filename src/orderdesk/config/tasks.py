"""Background tasks: the Django Tasks backend and its queues."""

import os

# The database backend by default (the queue is part of orderdesk's transactions); or,
# through the same Django Tasks API, "django_tasks_rq.RQBackend" on Redis. Either way the
# outbox rows are the truth and the worker's relay re-wakes any row whose task was lost.
TASK_BACKEND = os.environ.get("ORDERDESK_TASK_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {
    "default": {
        "BACKEND": TASK_BACKEND,
        "QUEUES": ["default", "email", "crm", "maintenance"],
    }
}
ORDERDESK_REDIS_URL = os.environ.get("ORDERDESK_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {queue: {"URL": ORDERDESK_REDIS_URL} for queue in TASKS["default"]["QUEUES"]}
