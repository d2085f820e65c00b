"""A small threaded HTTP server on a free loopback port, the base of the gateway fakes.

A fake answers `handle(request)` with (status, headers, JSON body). Tests queue faults
for the next matching request:
- "unavailable": answer 503 without acting;
- "server_error": answer 500 without acting;
- "slow": act, then answer only after `slow_seconds` (the client's read timeout fires, so
  the outcome is unknown to the client while the gateway has acted).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Raw:
    """A body that is not JSON: the stand-ins of a gateway's browser scripts and pages."""

    content: bytes
    content_type: str


BROWSER_DIR = Path(__file__).resolve().parent / "browser"


def browser_file(name: str, content_type: str):
    """(status, headers, body) of one stand-in of a gateway's browser script or page."""
    headers = {"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"}
    return 200, headers, Raw((BROWSER_DIR / name).read_bytes(), content_type)


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    replies: list = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class _Handler(BaseHTTPRequestHandler):
    server_version = "fake-gateway/1"

    def _serve(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        status, headers, body, delay = self.server.fake.dispatch(request)
        if delay:
            time.sleep(delay)
        if isinstance(body, Raw):
            payload, content_type = body.content, body.content_type
        else:
            payload = b"" if body is None else json.dumps(body).encode()
            content_type = "application/json"
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: that is the point of a slow answer

    do_GET = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format, *args):  # keep test output quiet
        return


class FakeGateway:
    slow_seconds = 1.5

    def __init__(self):
        self.lock = threading.RLock()
        self.log: list[Request] = []
        self._faults: deque[tuple[str, str]] = deque()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeGateway:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- faults ----------------------------------------------------------------------------

    def inject(self, fault: str, *, path: str = "", times: int = 1) -> None:
        """Make the next `times` requests whose path contains `path` fail with `fault`."""
        with self.lock:
            self._faults.extend([(fault, path)] * times)

    def _take_fault(self, path: str) -> str | None:
        with self.lock:
            for index, (fault, fragment) in enumerate(self._faults):
                if fragment in path:
                    del self._faults[index]
                    return fault
        return None

    def dispatch(self, request: Request):
        with self.lock:
            self.log.append(request)
        fault = self._take_fault(request.path)
        if fault == "unavailable":
            return 503, {}, self.error_body(503), 0
        if fault == "server_error":
            return 500, {}, self.error_body(500), 0
        with self.lock:
            status, headers, body = self.handle(request)
        return status, headers, body, self.slow_seconds if fault == "slow" else 0

    def requests_to(self, fragment: str, method: str = "POST") -> list[Request]:
        return [r for r in self.log if fragment in r.path and r.method == method]

    # -- for subclasses ------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, dict, dict | None]:
        raise NotImplementedError

    def error_body(self, status: int) -> dict:
        return {"error": {"message": f"fake answered {status}"}}
