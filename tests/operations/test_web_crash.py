"""A web process killed with SIGKILL while its request waits on the gateway loses nothing,
doubles nothing and leaves no order stuck: `orderdesk serve` starts a new one, the worker's
schedule settles the step the dead process left behind (once it is older than the gateway's
budget), and the order takes a new payment or ships.

The sandbox's latency comes before it acts, so the process dies before the gateway acted;
a gateway that acted and whose answer was lost is `tests/payments/test_abandoned_pending.py`.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connections

from orderdesk.api.keys import api_key_create
from orderdesk.common.clock import now
from orderdesk.links.models import LinkStatus
from orderdesk.links.services import link_checkout, link_send_reauthorization
from orderdesk.operations.maintenance import maintenance_run
from orderdesk.orders.models import Order, OrderStatus
from orderdesk.payments.gateways.transport import budget_seconds
from orderdesk.payments.models import LIVE, Authorization, AuthorizationStatus, Capture
from orderdesk.payments.services.reconciliation import ABANDONED_MARGIN_SECONDS
from orderdesk.sandbox.models import SandboxTransaction
from tests.factories import authorize, card_token, make_order
from tests.notifications.smtp import free_port
from tests.notifications.test_worker_crash import sessions_gone, wait_for
from tests.operations.test_serve import _descendants
from tests.payments.test_concurrency import database_url

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

REPOSITORY = Path(__file__).resolve().parents[2]
# Long enough to find the request at the gateway and kill the process serving it.
GATEWAY_LATENCY_MS = 4_000


class Server:
    """`orderdesk serve` with one web process, the sandbox slow on one operation."""

    def __init__(self, tmp_path, slow_operation: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "serve.log"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])
            ),
            "ORDERDESK_VAR_DIR": str(tmp_path),
            "ORDERDESK_LOG_FORMAT": "plain",
            f"ORDERDESK_SANDBOX_{slow_operation.upper()}_LATENCY_MS": str(GATEWAY_LATENCY_MS),
        }
        connections.close_all()
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "orderdesk.cli", "serve", "--workers", "1"]
            + ["--port", str(self.port)],
            cwd=tmp_path,
            env=environment,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.answering()

    def answering(self, timeout=120) -> None:
        def healthy():
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2).close()
            except OSError:
                return False
            return True

        assert wait_for(healthy, timeout), self.log.read_text()[-3000:]

    def web_processes(self) -> set[int]:
        """gunicorn's workers: the processes whose parent is gunicorn's master."""
        found = set()
        for pid in _descendants(self.process.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                parent_cmdline = Path(f"/proc/{parent}/cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            if b"gunicorn" in cmdline and b"gunicorn" in parent_cmdline:
                found.add(pid)
        return found

    def stop(self) -> None:
        for pid in [*_descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)
        sessions_gone()


@pytest.fixture
def server_for(tmp_path):
    servers = []

    def start(slow_operation):
        servers.append(Server(tmp_path, slow_operation))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


class Customer:
    """A browser: the payment page's cookie and form token, then the POST."""

    def __init__(self, url: str):
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def pays(self, payment_token: str) -> int | str:
        page = self.opener.open(self.url, timeout=30).read().decode()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": csrf, "payment_token": payment_token}
        ).encode()
        try:
            with self.opener.open(self.url, data=body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, ConnectionError) as error:
            return f"connection lost: {error}"


def in_background(action) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(action()))
    thread.start()
    return thread, answers


def kill_the_web_process_at_the_gateway(server, at_the_gateway) -> None:
    """SIGKILL the web process while its request waits on the gateway; gunicorn's master
    starts a new one."""
    assert wait_for(at_the_gateway, 30), "the request never reached the gateway"
    killed = server.web_processes()
    assert len(killed) == 1, killed
    os.kill(killed.pop(), signal.SIGKILL)
    server.answering()


def the_worker_runs_after_the_gateway_budget():
    """The worker over the next hour: its schedule (which counts the dead request's step as
    abandoned once it is older than the gateway's budget, then reconciles it) and the work
    it queues (voids). Returns the travel to that hour, to act in it."""
    start = now()
    for seconds in (1, 600, 3600):
        moment = start + timedelta(seconds=budget_seconds() + ABANDONED_MARGIN_SECONDS + seconds)
        with time_machine.travel(moment, tick=False):
            maintenance_run()
            tasks_run()
    return time_machine.travel(moment, tick=False)


def tasks_run() -> None:
    call_command(
        "db_worker", queue_name="*", batch=True, startup_delay=False, reload=False, verbosity=0
    )


def assert_records_agree_with_the_ledger(order) -> None:
    ledger = {
        row.idempotency_key: row.status
        for row in SandboxTransaction.objects.filter(kind="authorization")
    }
    for authorization in Authorization.objects.filter(order=order):
        expected = {
            AuthorizationStatus.AUTHORIZED: "authorized",
            AuthorizationStatus.VOIDED: "voided",
            AuthorizationStatus.CAPTURED: "captured",
        }.get(authorization.status)
        assert ledger.get(authorization.idempotency_key) == expected, authorization
    captured = SandboxTransaction.objects.filter(kind="capture", status="captured")
    assert sorted(captured.values_list("reference", flat=True)) == sorted(
        Capture.objects.values_list("gateway_reference", flat=True)
    )


def test_a_web_process_killed_during_a_customers_approval_loses_and_doubles_nothing(
    server_for, csr
):
    order = make_order(status="ready_to_ship")
    earlier = authorize(order)
    sent = link_send_reauthorization(order=order, actor=csr)
    tokens = card_token(), card_token()
    server = server_for("authorize")
    customer = Customer(sent.url.replace(sent.url.split("/pay/")[0], server.url))

    request, answers = in_background(lambda: customer.pays(tokens[0]))
    pending = Authorization.objects.filter(order=order, status=AuthorizationStatus.PENDING)
    kill_the_web_process_at_the_gateway(server, pending.exists)
    request.join(60)
    assert str(answers[0]).startswith("connection lost"), answers

    with the_worker_runs_after_the_gateway_budget():
        assert not Authorization.objects.filter(order=order, status__in=("pending", "unknown"))
        # The customer tries again (the dead request's claim on the link has lapsed too).
        result = link_checkout(link=sent.link, payment_token=tokens[1], method="card")
        tasks_run()  # the earlier hold's release
    assert result.outcome == "approved", result
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.COMPLETED
    live = Authorization.objects.filter(order=order, status__in=LIVE)
    assert [a.source for a in live] == ["customer_link"]
    earlier.refresh_from_db()
    assert earlier.status == AuthorizationStatus.VOIDED
    assert_records_agree_with_the_ledger(order)


def test_a_web_process_killed_during_a_shipments_capture_captures_once(server_for, csr):
    order = make_order(status="ready_to_ship")
    authorize(order)
    key = api_key_create(name="crash", username=csr.username)[1]
    server = server_for("capture")

    def ship():
        request = urllib.request.Request(
            f"{server.url}/api/orders/{order.number}/ship",
            data=b"{}",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, ConnectionError) as error:
            return f"connection lost: {error}"

    started = time.monotonic()
    request, answers = in_background(ship)
    # The capture is at the gateway once the request has waited a moment on its latency.
    kill_the_web_process_at_the_gateway(server, lambda: time.monotonic() - started > 1.5)
    request.join(60)
    assert str(answers[0]).startswith("connection lost"), answers

    the_worker_runs_after_the_gateway_budget()
    order.refresh_from_db()
    if order.status != OrderStatus.SHIPPED:
        # Nothing was captured and nothing holds the order: shipping again ships it.
        assert ship() == 200, server.log.read_text()[-3000:]
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.SHIPPED
    assert Capture.objects.filter(authorization__order=order).count() == 1
    assert_records_agree_with_the_ledger(order)
