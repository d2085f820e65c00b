"""The documented rate limits are what a client meets with the default server: `orderdesk serve`
with its two gunicorn worker processes, counting in the shared (database) cache."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django_ratelimit.core import _get_window

from orderdesk.links.tokens import token_hash

REPOSITORY = Path(__file__).resolve().parents[2]
WINDOW = 600  # the documented default window (ORDERDESK_LINK_RATE_WINDOW_SECONDS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server_database(tmp_path):
    """A database of the server's own (it migrates it itself), on the engine under test."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        yield f"sqlite:///{tmp_path / 'served.sqlite3'}"
        return
    name = f"orderdesk_served_{secrets.token_hex(4)}"
    user = database["USER"] or "postgres"
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    server = f"{user}{password}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    with psycopg.connect(f"postgres://{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{server}/{name}"
    with psycopg.connect(f"postgres://{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def served(tmp_path, server_database):
    """`orderdesk serve` as a user starts it: two workers, the default cache and limits."""
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ORDERDESK_LINK_RATE", "ORDERDESK_CACHE"))
    }
    environment.update(
        DATABASE_URL=server_database,
        ORDERDESK_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
    )
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "orderdesk.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("the server did not start: " + (tmp_path / "serve.log").read_text()[-3000:])
    yield port, process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


def get(port: int, path: str, source: str = "127.0.0.1") -> tuple[int, str]:
    """One request on a new connection, so that the requests spread over the workers."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After") or ""
    finally:
        connection.close()


def fire(port: int, paths: list[str], source: str) -> list[tuple[int, str]]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda path: get(port, path, source), paths))


def worker_count(process) -> int:
    """gunicorn's workers: the children of the master, itself a child of `orderdesk serve`."""
    result = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True)
    parents = {}
    for line in result.stdout.split("\n"):
        if line.strip():
            pid, ppid = line.split()
            parents.setdefault(int(ppid), []).append(int(pid))
    masters = parents.get(process.pid, [])
    return sum(len(parents.get(master, [])) for master in masters)


def windows(values: list[str]) -> list[int]:
    return [_get_window(value, WINDOW) for value in values]


def test_one_link_gets_its_documented_30_requests_across_two_server_processes(served):
    port, process = served
    assert worker_count(process) == 2
    for attempt in range(2):  # a second try only if a rate window ended mid-test
        token = secrets.token_urlsafe(32)
        keys = [token_hash(token)[:32], f"127.0.1.{attempt + 1}"]
        before = windows(keys)
        answers = fire(port, [f"/pay/{token}"] * 45, source=f"127.0.1.{attempt + 1}")
        if windows(keys) == before:
            break
    codes = [code for code, _ in answers]
    assert codes.count(404) == 30 and codes.count(429) == 15, codes
    assert {retry for code, retry in answers if code == 429} == {"600"}


def test_one_address_gets_its_documented_120_token_guesses_across_two_server_processes(served):
    port, _ = served
    for attempt in range(2):
        source = f"127.0.2.{attempt + 1}"
        before = windows([source])
        paths = [f"/pay/{secrets.token_urlsafe(32)}" for _ in range(140)]
        codes = [code for code, _ in fire(port, paths, source=source)]
        if windows([source]) == before:
            break
    assert codes.count(404) == 120 and codes.count(429) == 20, codes
