"""Log lines as JSON with ORDERDESK_LOG_FORMAT=json, each carrying the id of its request."""

import json
import logging
import os
import subprocess
import sys

import pytest

from orderdesk.common.logs import JsonFormatter, RequestIdFilter


@pytest.fixture
def captured():
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


@pytest.mark.django_db
def test_every_line_a_request_causes_carries_its_id(client, captured):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "proxy-given-id-123"})
    assert response["X-Request-ID"] == "proxy-given-id-123"
    lines = [json.loads(line) for line in captured]
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found and all(line["request_id"] == "proxy-given-id-123" for line in not_found), lines
    assert not_found[0]["level"] == "WARNING" and "Not Found" in not_found[0]["message"]


@pytest.mark.django_db
def test_a_request_without_a_good_id_gets_one_of_its_own(client):
    first = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    second = client.get("/healthz")
    assert len(first["X-Request-ID"]) == 32 and first["X-Request-ID"] != second["X-Request-ID"]


def test_a_line_outside_any_request_has_an_empty_id(captured):
    logging.getLogger("orderdesk.test").warning("quiet %s", "night")
    line = json.loads(captured[-1])
    assert (line["message"], line["request_id"]) == ("quiet night", "")


def run_settings(code: str, **environment):
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "orderdesk.settings", **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_json_format_is_a_setting():
    result = run_settings(
        "import logging; logging.getLogger('orderdesk').warning('hello')", ORDERDESK_LOG_FORMAT="json"
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello" and line["level"] == "WARNING" and "time" in line


def test_an_unknown_log_format_is_refused_with_a_clear_error():
    result = run_settings("pass", ORDERDESK_LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "ORDERDESK_LOG_FORMAT must be plain or json, not 'xml'" in result.stderr
