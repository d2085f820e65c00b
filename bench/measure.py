"""The measurements, run inside one database's child process (see run.py)."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

PANEL_REPEATS = 20
SWEEP_REPEATS = 3


def database_recreate(name: str) -> None:
    """Start from an empty database: delete the SQLite file, or drop and create the PG one."""
    import dj_database_url

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(config["NAME"] + suffix).unlink(missing_ok=True)
        return
    import psycopg

    admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def run_all(orders: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from bench import data

    call_command("migrate", "--no-input", verbosity=0)
    call_command("migrate", "--no-input", database="sandbox", verbosity=0)
    started = time.perf_counter()
    data.build(orders)
    built = time.perf_counter() - started
    log(f"built {orders:,} orders and authorizations in {built:.1f} s")
    result = {
        "vendor": connection.vendor,
        "database_version": database_version(),
        "orders": orders,
        "build_seconds": round(built, 1),
        "panel": measure_panel(),
    }
    log(f"panel: {result['panel']}")
    result["sweep"] = measure_sweep()
    log(f"sweep: {result['sweep']}")
    result["web"] = measure_web()
    log(f"web: {result['web']}")
    result["approve"] = measure_approve()
    log(f"approve: {result['approve']}")
    result["pages"] = measure_pages()
    return result


def run_approve(orders: int) -> dict:
    """`run.py --measure approve`: the data set, then target (c) alone."""
    from django.core.management import call_command
    from django.db import connection

    from bench import data

    call_command("migrate", "--no-input", verbosity=0)
    call_command("migrate", "--no-input", database="sandbox", verbosity=0)
    started = time.perf_counter()
    data.build(orders)
    built = time.perf_counter() - started
    log(f"built {orders:,} orders and authorizations in {built:.1f} s")
    return {
        "vendor": connection.vendor,
        "database_version": database_version(),
        "orders": orders,
        "build_seconds": round(built, 1),
        "approve": measure_approve(),
    }


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return "PostgreSQL " + cursor.fetchone()[0].split()[0]
        cursor.execute("SELECT sqlite_version()")
        return "SQLite " + cursor.fetchone()[0]


# -- (a) the unpaid panel -----------------------------------------------------------------


def bench_user():
    from orderdesk.accounts.services import staff_create

    return staff_create(username="bench-supervisor", role="supervisor", password="bench-pass-123")


def panel_function():
    """The dashboard's own selector when it exists, else the equivalent ORM query."""
    try:
        from orderdesk.unpaid.rows import unpaid_panel
    except ImportError:
        unpaid_panel = None
    if unpaid_panel is not None:
        user = bench_user()
        return "orderdesk.unpaid.rows.unpaid_panel", lambda: unpaid_panel(user=user)
    return "equivalent ORM query on Order (no dashboard selector yet)", panel_orm_query


def panel_orm_query():
    from django.conf import settings
    from django.db.models import Case, F, IntegerField, Q, Value, When

    from orderdesk.common.clock import now
    from orderdesk.orders.models import UNPAID_STATES, Order, PaymentState

    moment = now()
    soon = Q(
        payment_state=PaymentState.AUTHORIZED,
        payment_expires_at__lt=moment + timedelta(days=settings.ORDERDESK_WARNING_DAYS),
    )
    urgency = Case(
        *(When(payment_state=state, then=Value(rank)) for rank, state in enumerate(UNPAID_STATES)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return list(
        Order.objects.exclude(status__in=["shipped", "cancelled"])
        .filter(Q(payment_state__in=UNPAID_STATES) | soon)
        .annotate(urgency=urgency)
        .select_related("account", "assigned_to")
        .order_by("urgency", F("payment_expires_at").asc(nulls_last=True), "id")[:50]
    )


def measure_panel() -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    label, function = panel_function()
    for _ in range(3):
        function()
    with CaptureQueriesContext(connection) as captured:
        function()
    statements = [query["sql"] for query in captured.captured_queries]
    raw = connection.connection  # the DB-API connection, below the ORM

    def raw_run():
        cursor = raw.cursor()
        for sql in statements:
            cursor.execute(sql)
            cursor.fetchall()
        cursor.close()

    orm_samples, raw_samples = [], []
    for _ in range(PANEL_REPEATS):  # interleaved, so both meet the same cache state
        orm_samples.append(timed(function))
        raw_samples.append(timed(raw_run))
    return {
        "function": label,
        "queries": len(statements),
        "orm_p50_ms": round(percentile(orm_samples, 0.5), 2),
        "orm_p95_ms": round(percentile(orm_samples, 0.95), 2),
        "raw_p50_ms": round(percentile(raw_samples, 0.5), 2),
        "raw_p95_ms": round(percentile(raw_samples, 0.95), 2),
        "ratio_p50": round(percentile(orm_samples, 0.5) / percentile(raw_samples, 0.5), 2),
        "ratio_p95": round(percentile(orm_samples, 0.95) / percentile(raw_samples, 0.95), 2),
    }


# -- (b) the expiry sweep -------------------------------------------------------------------


def measure_sweep() -> dict:
    """The sweep at a moment when every live authorization has lapsed, against two floors.

    - the same statements the sweep sent (captured once), replayed raw on the DB-API cursor:
      the difference is the ORM's and the sweep's Python;
    - a raw SQL UPDATE of the lapsed authorizations alone (the target's floor): the
      difference adds the timeline rows and the orders' state, which it does not write.

    Each run is rolled back, so every run meets the same rows; the three are interleaved, and
    on PostgreSQL the tables are vacuumed before each run so no run pays for the dead rows an
    earlier rollback left.
    """
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from orderdesk.payments.models import Authorization
    from orderdesk.payments.state import LIVE
    from orderdesk.payments.sweep import authorizations_expire

    moment = timezone.now() + timedelta(days=60)
    lapsing = Authorization.objects.filter(status__in=LIVE, expires_at__lte=moment).count()
    table = Authorization._meta.db_table
    stamp = connection.ops.adapt_datetimefield_value(moment)
    live = ", ".join(f"'{status}'" for status in LIVE)  # literals, as the partial index states

    def sweep():
        authorizations_expire(at=moment)

    def raw_update():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = 'expired', updated_at = %s "  # noqa: S608
                f"WHERE status IN ({live}) AND expires_at <= %s",
                [stamp, stamp],
            )

    def rolled_back(function) -> float:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM")  # outside the transaction: autocommit
        with transaction.atomic():
            elapsed = timed(function)
            transaction.set_rollback(True)
        return elapsed

    statements: list[str] = []

    def sweep_captured():  # inside the transaction, so only the sweep's own statements
        with CaptureQueriesContext(connection) as captured:
            sweep()
        statements.extend(query["sql"] for query in captured.captured_queries)

    rolled_back(sweep_captured)  # also the warm-up run

    def raw_replay():
        cursor = connection.connection.cursor()  # the DB-API cursor, below the ORM
        for sql in statements:
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
        cursor.close()

    samples = {"sweep": [], "replay": [], "raw": []}
    for _ in range(SWEEP_REPEATS):
        samples["sweep"].append(rolled_back(sweep))
        samples["replay"].append(rolled_back(raw_replay))
        samples["raw"].append(rolled_back(raw_update))
    idle = [timed(authorizations_expire) for _ in range(SWEEP_REPEATS)]
    sweep_ms, replay_ms, raw_ms = (statistics.median(samples[key]) for key in samples)
    return {
        "authorizations": Authorization.objects.count(),
        "lapsing": lapsing,
        "statements": len(statements),
        "sweep_ms": round(sweep_ms),
        "replay_ms": round(replay_ms),
        "raw_update_ms": round(raw_ms),
        "ratio_replay": round(sweep_ms / replay_ms, 2),
        "ratio": round(sweep_ms / raw_ms, 2),
        "samples_ms": {key: [round(value) for value in values] for key, values in samples.items()},
        "scheduled_sweep_nothing_due_ms": round(statistics.median(idle), 1),
    }


# -- (d) the web worker's memory under load ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def measure_web(seconds: float = 20, clients: int = 8) -> dict:
    """One gunicorn worker (4 threads) under `clients` concurrent clients; peak RSS sampled."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="bench-admin").delete()
    get_user_model().objects.create_superuser("bench-admin", "", "bench-admin-pass")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable, "-m", "gunicorn", "orderdesk.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
            "--no-control-socket", "--log-level", "warning",
        ],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        cookie = admin_session(base)
        paths = ["/healthz", "/admin/login/", "/dashboard/", "/admin/orders/order/"]
        counts, peak = load(
            base, paths, cookie, seconds=seconds, clients=clients, master=server.pid
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": counts,
        "peak_worker_rss_mb": round(peak, 1),
    }


def wait_until_up(base: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the web server did not start")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def admin_session(base: str) -> str:
    """Log in through the admin form; return the Cookie header of the session."""
    opener = urllib.request.build_opener(_NoRedirect)
    page = opener.open(base + "/admin/login/")  # noqa: S310
    csrf = page.headers.get_all("Set-Cookie")[0].split(";")[0]
    token = csrf.split("=", 1)[1]
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "bench-admin", "password": "bench-admin-pass"}
    ).encode()
    request = urllib.request.Request(base + "/admin/login/", data=body)  # noqa: S310
    request.add_header("Cookie", csrf)
    request.add_header("Referer", base + "/admin/login/")
    try:
        opener.open(request)  # noqa: S310
    except urllib.error.HTTPError as answer:  # the 302 after logging in
        session = [
            c.split(";")[0]
            for c in answer.headers.get_all("Set-Cookie") or []
            if c.startswith("sessionid")
        ]
        return "; ".join([csrf, *session])
    raise RuntimeError("could not log in to the admin")


def load(base, paths, cookie, *, seconds, clients, master) -> tuple[dict, float]:
    counts: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        opener = urllib.request.build_opener(_NoRedirect)
        step = index
        while time.monotonic() < stop:
            path = paths[step % len(paths)]
            step += 1
            request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310
            try:
                status = opener.open(request, timeout=60).status  # noqa: S310
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:  # a timeout: the server is saturated
                status = "timeout"
            with lock:
                key = f"{path} {status}"
                counts[key] = counts.get(key, 0) + 1

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    peak = 0.0
    while any(thread.is_alive() for thread in threads):
        peak = max([peak, *(rss_mb(pid) for pid in worker_pids(master))])
        time.sleep(0.2)
    return counts, peak


# -- (c) the approve-payment endpoint (measured in approve_measure.py) --------------------------


def approve_links_prepare(count: int, prefix: str = "bench") -> list[tuple[str, str]]:
    """`count` open reauthorization links, through the real services, each with a card token.

    Each is on its own card order that was never authorized (it owes its whole total), so
    the link is the customer's way to re-authorize it.
    """
    from orderdesk.accounts.services import account_create, staff_create
    from orderdesk.links.services import link_send_reauthorization
    from orderdesk.orders.services import LineInput
    from orderdesk.sandbox.server import tokenize_card
    from orderdesk.workflows.intake import order_open

    csr = staff_create(username=f"{prefix}-csr", role="csr", password="bench-pass-123")
    prepared = []
    for index in range(count):
        account = account_create(
            name=f"Bench customer {index}", ecommerce_email=f"{prefix}{index}@example.com"
        )
        order = order_open(
            account=account,
            kind="repair",
            payment_method="card",
            lines=[LineInput(description="Screen replacement", unit_price=12_500)],
        )
        sent = link_send_reauthorization(order=order, actor=csr)
        card = tokenize_card(number="4242424242424242", exp_month=12, exp_year=2099, cvc="123")
        prepared.append((sent.url.rsplit("/", 1)[1], card))
    return prepared


def measure_approve() -> dict:
    """Target (c), in bench/approve_measure.py: the approval against its raw-SQL floor."""
    from bench.approve_measure import measure

    return measure()


def approve_csrf_cookie(base: str, token: str) -> str:
    """The customer's page sets the CSRF cookie; every client posts with it afterwards."""
    page = urllib.request.urlopen(f"{base}/pay/{token}", timeout=60)  # noqa: S310
    for header in page.headers.get_all("Set-Cookie") or []:
        if header.startswith("csrftoken="):
            return header.split(";")[0].split("=", 1)[1]
    raise RuntimeError("the payment page set no CSRF cookie")


def approve_post(base: str, csrf: str, token: str, card: str, opener=None) -> int | str:
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "payment_token": card}).encode()
    request = urllib.request.Request(f"{base}/pay/{token}", data=body)  # noqa: S310
    request.add_header("Cookie", f"csrftoken={csrf}")
    return http_status(opener or urllib.request.build_opener(_NoRedirect), request)


def http_status(opener, request) -> int | str:
    try:
        answer = opener.open(request, timeout=60)  # noqa: S310
        answer.read()
        return answer.status
    except urllib.error.HTTPError as error:  # the 302 after an approval lands here
        error.read()
        return error.code
    except OSError:
        return "timeout"


def drive(*, seconds, clients, master, request, ok: int) -> dict:
    """`clients` threads call `request(opener)` in a loop for `seconds` (or until it returns
    None). Requests per second count the answers with status `ok` over the wall time;
    latency percentiles are over all answers; the worker's peak RSS is sampled."""
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    begin = time.monotonic()
    stop = begin + seconds
    exhausted = threading.Event()

    def client() -> None:
        opener = urllib.request.build_opener(_NoRedirect)
        while time.monotonic() < stop:
            start = time.perf_counter()
            status = request(opener)
            elapsed = (time.perf_counter() - start) * 1000
            if status is None:
                exhausted.set()
                return
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    peak = 0.0
    while any(thread.is_alive() for thread in threads):
        peak = max([peak, *(rss_mb(pid) for pid in worker_pids(master))])
        time.sleep(0.2)
    wall = time.monotonic() - begin
    return {
        "requests": len(latencies),
        "statuses": statuses,
        "wall_seconds": round(wall, 2),
        "rps": round(statuses.get(str(ok), 0) / wall, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "peak_worker_rss_mb": round(peak, 1),
        "ran_out_of_links": exhausted.is_set(),
        "load_average": round(os.getloadavg()[0], 2),
    }


# -- (e) whole pages, as a CSR waits for them ---------------------------------------------------

PAGE_REPEATS = 30
CSV_REPEATS = 3


def page_cases(csr) -> list[tuple[str, str, str, dict]]:
    """(label, kind of target, path, extra request headers) of every page measured."""
    from orderdesk.orders.models import Order
    from orderdesk.unpaid.groups import GROUPS
    from orderdesk.unpaid.rows import SORTS

    order = Order.objects.filter(payment_state="failed").order_by("id").first()
    cases = [("`/dashboard/` default", "page", "/dashboard/", {})]
    cases += [
        (f"group {group.key}", "page", f"/dashboard/?group={group.key}", {}) for group in GROUPS
    ]
    cases += [
        (f"sort {sort}", "page", f"/dashboard/?sort={sort}", {})
        for sort in SORTS
        if sort != "urgency"
    ]
    cases += [
        ("search account name", "page", "/dashboard/?q=Bench+customer+12", {}),
        ("search order number", "page", f"/dashboard/?q={order.number[:-2]}", {}),
        ("search one account's name", "page", "/dashboard/?q=Bench+customer+1234", {}),
        ("search a whole order number", "page", f"/dashboard/?q={order.number}", {}),
        ("page 20", "page", "/dashboard/?page=20", {}),
        ("last page", "page", "/dashboard/?page=1000000", {}),
        ("last page, sort by total", "page", "/dashboard/?page=1000000&sort=total", {}),
        ("group, kind and search", "page", "/dashboard/?group=failed&kind=repair&q=Bench", {}),
        ("panel refresh (htmx)", "page", "/dashboard/", {"HTTP_HX_REQUEST": "true"}),
        ("order screen", "order", f"/orders/{order.number}/", {}),
        ("`/metrics`", "metrics", "/metrics", {}),
        ("`/api/unpaid`", "page", "/api/unpaid", {}),
    ]
    return cases


_SERVER_CURSOR = re.compile(r"^DECLARE\s+\S+\s+.*?CURSOR\s+(?:WITH(?:OUT)?\s+HOLD\s+)?FOR\s+", re.S)


def _replay(statements: list[str]) -> None:
    """The statements on the DB-API cursor; a server-side cursor's query (PostgreSQL's
    iterator) runs as the plain query it declares."""
    from django.db import connection

    cursor = connection.connection.cursor()  # the DB-API cursor, below the ORM
    for statement in statements:
        sql = _SERVER_CURSOR.sub("", statement)
        if not sql.lstrip().upper().startswith(("SELECT", "WITH", "(SELECT")):
            continue
        cursor.execute(sql)
        if cursor.description is not None:
            cursor.fetchall()
    cursor.close()


def measure_pages() -> dict:
    """Each page through Django's test client (middleware, view, template), logged in as a CSR,
    interleaved with its SQL floor: the statements that request sent, replayed raw."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orderdesk.accounts.services import staff_create

    csr = staff_create(username="bench-pages-csr", role="csr", password="bench-pass-123")
    client = Client()
    client.force_login(csr)
    rows = []
    for label, target, path, headers in page_cases(csr):
        for _ in range(3):
            status = client.get(path, **headers).status_code
        connection.queries_log.clear()  # a full log (its length capped) would capture nothing
        with CaptureQueriesContext(connection) as captured:
            client.get(path, **headers)
        sent = [query["sql"] for query in captured.captured_queries]  # before the log empties
        statements = [
            sql for sql in sent if sql.lstrip().upper().startswith(("SELECT", "WITH", "(SELECT"))
        ]
        page_samples, floor_samples = [], []
        for _ in range(PAGE_REPEATS):
            page_samples.append(timed(lambda: client.get(path, **headers)))  # noqa: B023
            floor_samples.append(timed(lambda: _replay(statements)))  # noqa: B023
        rows.append(
            {
                "label": label,
                "target": target,
                "path": path,
                "status": status,
                "queries": len(sent),
                "p50_ms": round(percentile(page_samples, 0.5), 1),
                "p95_ms": round(percentile(page_samples, 0.95), 1),
                "sql_p50_ms": round(percentile(floor_samples, 0.5), 1),
                "sql_p95_ms": round(percentile(floor_samples, 0.95), 1),
            }
        )
        log(f"pages: {rows[-1]}")
    return {"repeats": PAGE_REPEATS, "rows": rows, "csv": measure_csv(client)}


def measure_csv(client) -> dict:
    """The whole CSV export: time to its first byte and rows a second, median of a few."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    warm = client.get("/dashboard/unpaid.csv")
    b"".join(warm.streaming_content)
    warm.close()
    connection.queries_log.clear()
    first_bytes, totals, count = [], [], 0
    for _ in range(CSV_REPEATS):
        start = time.perf_counter()
        response = client.get("/dashboard/unpaid.csv")
        chunks = iter(response.streaming_content)
        first = next(chunks)
        first_bytes.append((time.perf_counter() - start) * 1000)
        count = first.count(b"\n") + sum(chunk.count(b"\n") for chunk in chunks) - 1
        totals.append(time.perf_counter() - start)
        response.close()  # ends the request: its server-side cursor (PostgreSQL) is closed
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/dashboard/unpaid.csv")
        b"".join(response.streaming_content)
        response.close()
    statements = [query["sql"] for query in captured.captured_queries]
    floor = statistics.median(timed(lambda: _replay(statements)) for _ in range(CSV_REPEATS))
    total = statistics.median(totals)
    return {
        "rows": count,
        "first_byte_ms": round(statistics.median(first_bytes), 1),
        "total_ms": round(total * 1000),
        "rows_per_second": round(count / total),
        "sql_ms": round(floor),
    }


def run_pages(orders: int) -> dict:
    """`run.py --measure pages`: the data set, then target (e) alone."""
    from django.core.management import call_command
    from django.db import connection

    from bench import data

    call_command("migrate", "--no-input", verbosity=0)
    started = time.perf_counter()
    data.build(orders)
    built = time.perf_counter() - started
    log(f"built {orders:,} orders and authorizations in {built:.1f} s")
    return {
        "vendor": connection.vendor,
        "database_version": database_version(),
        "orders": orders,
        "build_seconds": round(built, 1),
        "pages": measure_pages(),
    }
