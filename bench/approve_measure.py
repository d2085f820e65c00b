"""Target (c): the approve endpoint against a floor doing the same durable work in raw SQL.

One gunicorn server (bench.settings with the bench URLconf) serves POST /pay/<token> (the
product's approval), POST /bench/floor/<token> (bench/approve_floor.py) and GET /bench/bare
(a constant, for context). Before anything is timed, one real approval and one floor request
are recorded in this process and compared: the benchmark stops if their statements, tables
or commits differ. Floor and approval loads then alternate (floor, approval, floor,
approval) so that a change in the shared machine's load falls on both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.approve_floor import approval_and_floor_recorded, floor_differences
from bench.measure import (
    _NoRedirect,
    approve_csrf_cookie,
    approve_links_prepare,
    approve_post,
    drive,
    free_port,
    http_status,
    log,
    wait_until_up,
)

TARGET = 0.5  # the approval reaches at least half the floor's requests per second
ROUNDS = 2  # floor and approval alternate, `seconds / ROUNDS` each per round
FLOOR_LINKS = 5000  # the floor answers faster: more single-use links (they are slow to make)


def measure(seconds: float = 20, clients: int = 8, links: int = 1200, warm_up: int = 40) -> dict:
    started = time.perf_counter()
    approve_links = approve_links_prepare(links + warm_up + 2)
    floor_links = approve_links_prepare(FLOOR_LINKS + warm_up + 2, prefix="bench-floor")
    log(f"approve: {len(approve_links) + len(floor_links):,} open links in "
        f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    # Twice: the first request from an address adds its rate-limit counter, later ones
    # increment it (the loads' case, which is reported).
    statements_checked(approve_links.pop(), floor_links.pop())
    checked = statements_checked(approve_links.pop(), floor_links.pop())
    log(f"approve: floor checked, {checked}")
    server, base = server_start()
    try:
        wait_until_up(base)
        csrf = approve_csrf_cookie(base, approve_links[0][0])
        for (token, card), (floor_token, _) in zip(
            approve_links[:warm_up], floor_links[:warm_up], strict=True
        ):
            approve_post(base, csrf, token, card)
            floor_post(base, csrf, floor_token, card)
            urllib.request.urlopen(base + "/bench/bare", timeout=60).read()  # noqa: S310
        approve_queue = _queue(approve_links[warm_up:], base, csrf, approve_post)
        floor_queue = _queue(floor_links[warm_up:], base, csrf, floor_post)

        def bare_get(opener):
            return http_status(opener, urllib.request.Request(base + "/bench/bare"))  # noqa: S310

        loads = {"floor": [], "approve": []}
        each = {"seconds": seconds / ROUNDS, "clients": clients, "master": server.pid, "ok": 302}
        for _ in range(ROUNDS):
            loads["floor"].append(drive(request=floor_queue, **each))
            loads["approve"].append(drive(request=approve_queue, **each))
            log(f"approve: floor {loads['floor'][-1]}, approve {loads['approve'][-1]}")
        bare = drive(request=bare_get, **{**each, "seconds": seconds / ROUNDS, "ok": 200})
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor, approve = combined(loads["floor"]), combined(loads["approve"])
    return {
        "workers": 1,
        "threads": 4,
        "clients": clients,
        "seconds": seconds,
        "rounds": ROUNDS,
        "statements": checked,
        "bare": bare,
        "floor": floor,
        "approve": approve,
        "ratio": round(approve["rps"] / floor["rps"], 3) if floor["rps"] else 0.0,
        "bare_ratio": round(approve["rps"] / bare["rps"], 3) if bare["rps"] else 0.0,
    }


def statements_checked(approval: tuple[str, str], floor: tuple[str, str]) -> dict:
    """Record one real approval and one floor request; stop the benchmark if they differ."""
    recorded_approval, recorded_floor = approval_and_floor_recorded(
        approval[0], floor[0], approval[1]
    )
    differences = floor_differences(recorded_approval, recorded_floor)
    if differences:
        raise RuntimeError("the floor does not do the approval's work: " + "; ".join(differences))
    return recorded_approval.counts()


def server_start():
    port = free_port()
    root = Path(__file__).resolve().parent.parent
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "ORDERDESK_BENCH_URLCONF": "bench.urls",
        "ORDERDESK_LINK_RATE_PER_TOKEN": "1000000",
        "ORDERDESK_LINK_RATE_PER_ADDRESS": "1000000000",
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "src")]),
    }
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable, "-m", "gunicorn", "orderdesk.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
            "--no-control-socket", "--log-level", "warning", "--error-logfile", "-",
        ],
        env=environment,
        stderr=_server_log(),
    )  # fmt: skip
    return server, f"http://127.0.0.1:{port}"


def _server_log():
    """BENCH_SERVER_LOG names a file for the server's errors (none are kept by default)."""
    path = os.environ.get("BENCH_SERVER_LOG")
    return open(path, "a") if path else subprocess.DEVNULL  # noqa: SIM115 (the server's)


def floor_post(base: str, csrf: str, token: str, card: str, opener=None) -> int | str:
    """As `measure.approve_post`, to the floor view."""
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "payment_token": card}).encode()
    request = urllib.request.Request(f"{base}/bench/floor/{token}", data=body)  # noqa: S310
    request.add_header("Cookie", f"csrftoken={csrf}")
    return http_status(opener or urllib.request.build_opener(_NoRedirect), request)


def _queue(links, base, csrf, post):
    """A request function for `drive`: each call uses the next single-use link."""
    pending = iter(links)
    lock = threading.Lock()

    def next_request(opener):
        with lock:
            link = next(pending, None)
        return None if link is None else post(base, csrf, *link, opener=opener)

    return next_request


def combined(loads: list[dict]) -> dict:
    """The rounds of one load as one: requests and wall time added, the worst percentiles."""
    wall = sum(load["wall_seconds"] for load in loads)
    statuses: dict[str, int] = {}
    for load in loads:
        for status, count in load["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "requests": sum(load["requests"] for load in loads),
        "statuses": statuses,
        "wall_seconds": round(wall, 2),
        "rps": round(statuses.get("302", 0) / wall, 1) if wall else 0.0,
        "p50_ms": max(load["p50_ms"] or 0 for load in loads),
        "p95_ms": max(load["p95_ms"] or 0 for load in loads),
        "peak_worker_rss_mb": max(load["peak_worker_rss_mb"] for load in loads),
        "ran_out_of_links": any(load["ran_out_of_links"] for load in loads),
        "load_average": [load["load_average"] for load in loads],
    }
