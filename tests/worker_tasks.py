"""A task for the worker tests: each run appends one line to a file, so a second run shows."""

import os
import time

from django_tasks import task


@task(queue_name="default")
def run_recorded(path: str, number: int) -> int:
    time.sleep(0.05)  # long enough for two workers to overlap
    with open(path, "a") as log:
        log.write(f"{number} {os.getpid()}\n")
    return number
