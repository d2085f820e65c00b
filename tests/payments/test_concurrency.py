"""On PostgreSQL, concurrent clicks and concurrent workers never do anything twice."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from orderdesk.orders.models import EventKind
from orderdesk.payments.errors import AuthorizationInProgress
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.sandbox.models import SandboxTransaction
from tests.factories import authorize, card_token, make_order

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

REPOSITORY = Path(__file__).resolve().parents[2]


def run_at_once(count, action):
    """Run `action` in `count` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def worker(index):
        try:
            barrier.wait()
            outcomes[index] = action()
        except Exception as error:  # collected and asserted on by the caller
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_authorization_requests_for_one_order_authorize_once(settings):
    # Gateway latency keeps the first request in flight while the others arrive.
    settings.ORDERDESK_SANDBOX = {**settings.ORDERDESK_SANDBOX, "latency_ms": 300}
    order = make_order()
    card_token()  # warm the signer before the race
    outcomes = run_at_once(6, lambda: authorize(order))
    authorized = [o for o in outcomes if isinstance(o, Authorization)]
    refused = [o for o in outcomes if isinstance(o, AuthorizationInProgress)]
    assert len(authorized) == 1, outcomes
    assert len(refused) == 5, outcomes
    assert authorized[0].status == AuthorizationStatus.AUTHORIZED
    assert Authorization.objects.filter(order=order).count() == 1
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1
    assert order.events.filter(kind=EventKind.AUTHORIZATION_REQUESTED).count() == 1


def database_url():
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def test_two_batch_workers_run_every_enqueued_task_exactly_once(tmp_path):
    from django_tasks_db.models import DBTaskResult

    from tests.worker_tasks import run_recorded

    record = tmp_path / "runs.txt"
    count = 40
    for number in range(count):
        run_recorded.enqueue(str(record), number)
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])
        ),
        "ORDERDESK_VAR_DIR": str(tmp_path),
    }
    connections.close_all()  # the workers need no test connection holding locks
    command = [sys.executable, "-m", "orderdesk.cli", "worker", "--batch"]
    workers = [
        subprocess.Popen(
            command,
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    runs, pids = zip(*(line.split() for line in record.read_text().splitlines()))
    assert len(set(pids)) == 2, "both workers should have claimed tasks"
    assert sorted(runs, key=int) == [str(number) for number in range(count)]
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == count
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()


def test_concurrent_sweeps_expire_each_authorization_once():
    from datetime import timedelta

    import time_machine

    from orderdesk.common.clock import now
    from orderdesk.orders.models import OrderEvent
    from orderdesk.payments.sweep import authorizations_expire

    start = now()
    with time_machine.travel(start, tick=False):
        for _ in range(8):
            authorize(make_order())
    with time_machine.travel(start + timedelta(days=29), tick=False):
        outcomes = run_at_once(4, authorizations_expire)
    assert sorted(outcomes) == [0, 0, 0, 8], outcomes
    assert OrderEvent.objects.filter(kind=EventKind.AUTHORIZATION_EXPIRED).count() == 8


def test_concurrent_reconciliations_settle_once_with_one_timeline_row():
    from orderdesk.payments.gateways.sandbox import inject_faults
    from orderdesk.payments.services import authorization_reconcile

    order = make_order()
    with inject_faults("timeout"):
        unknown = authorize(order)
    outcomes = run_at_once(
        4, lambda: authorization_reconcile(Authorization.objects.get(pk=unknown.pk))
    )
    assert {o.status for o in outcomes} == {AuthorizationStatus.AUTHORIZED}, outcomes
    assert order.events.filter(kind=EventKind.AUTHORIZATION_RECONCILED).count() == 1
    assert order.events.filter(kind=EventKind.AUTHORIZATION_MADE).count() == 1
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1
