"""`orderdesk serve`: the web server's settings that payments depend on."""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gunicorn.config import Config

from orderdesk.cli import gunicorn_command
from orderdesk.payments.gateways.transport import budget_seconds
from tests.notifications.smtp import free_port


def gunicorn_settings(command: list[str]) -> Config:
    """What gunicorn itself reads from the command line `serve` builds."""
    config = Config()
    parsed = config.parser().parse_args(command[3:])
    for name, value in vars(parsed).items():
        if value is not None and name in config.settings:
            config.set(name, value)
    return config


def serve_args():
    return argparse.Namespace(host="127.0.0.1", port=8000, workers=2)


def test_the_request_timeout_outlasts_the_gateway_budget():
    config = gunicorn_settings(gunicorn_command(serve_args()))
    assert budget_seconds() == 90  # 30 s for each of 3 attempts
    assert config.timeout > budget_seconds()
    assert config.graceful_timeout > budget_seconds()


def test_the_request_timeout_follows_a_changed_gateway_budget(settings):
    settings.ORDERDESK_GATEWAY_TIMEOUT_SECONDS = 60
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 4
    config = gunicorn_settings(gunicorn_command(serve_args()))
    assert config.timeout > 300


# `orderdesk serve --with-worker` as `make run` starts it, stopped as a terminal stops it.


def _descendants(pid: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def served(tmp_path):
    """`orderdesk serve --with-worker` in a session of its own, like a terminal's job."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "ORDERDESK_VAR_DIR": str(tmp_path),
        "ORDERDESK_LOG_FORMAT": "plain",
    }
    command = [sys.executable, "-m", "orderdesk.cli", "serve", "--with-worker"]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [*command, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            break
        except OSError:
            assert process.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, "serve did not answer in 120 s"
            time.sleep(0.5)
    yield process, port, Path(log.name)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _ctrl_c(process) -> None:
    """What Ctrl-C does: SIGINT to every process of the terminal's foreground group."""
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=60)


def test_ctrl_c_stops_every_process_serve_started_and_frees_the_port(served):
    process, port, log = served
    children = _descendants(process.pid)
    assert len(children) >= 3, "gunicorn's master, its workers and the task worker"
    _ctrl_c(process)
    assert process.returncode == 0
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in children if _running(pid)] == []
    assert _port_free(port)


def test_the_access_log_keeps_no_payment_link_token(served):
    process, port, log = served
    token = "Zt4kq0s9wq1B7c-thisIsNotARealTokenButLooksLikeOne"
    for path in (f"/pay/{token}", f"/pay/{token}/paypal/return?token=x"):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).close()
        except urllib.error.HTTPError as answer:
            assert answer.code == 404
    _ctrl_c(process)
    text = log.read_text()
    assert '"GET /pay/[token] HTTP/1.1" 404' in text
    assert "/pay/[token]/paypal/return" in text
    assert token not in text


def test_make_run_gives_the_demo_and_the_server_the_port_being_served():
    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if key != "ORDERDESK_BASE_URL"}
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "run", "PORT=8111"],  # noqa: S607
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in result.stdout.splitlines() if "orderdesk " in line]
    demo = next(line for line in lines if "orderdesk demo" in line)
    assert "ORDERDESK_BASE_URL=${ORDERDESK_BASE_URL:-http://127.0.0.1:8111}" in demo
    assert any("--port 8111" in line for line in result.stdout.splitlines())
