"""Log lines as JSON (settings.ORDERDESK_LOG_FORMAT=json), each with the id of its request."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import datetime, timezone

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_begin(sender=None, environ=None, **kwargs) -> None:
    """On Django's request_started: the id is set before any middleware, so that every line
    of the request has it, Django's own 4xx/5xx line (logged after the middleware) included.
    The proxy's X-Request-ID is kept when it is well formed."""
    offered = (environ or {}).get("HTTP_X_REQUEST_ID", "")
    request_id.set(offered if REQUEST_ID_PATTERN.match(offered) else uuid.uuid4().hex)


def request_id_end(sender=None, **kwargs) -> None:
    request_id.set("")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


# A customer's payment link is a bearer credential: its token never goes into a log line.
PAYMENT_TOKEN = re.compile(r"(/pay/)[^/?#\s\"']+")


def payment_tokens_redacted(text: str) -> str:
    """'/pay/AbC…xyz/paypal' -> '/pay/[token]/paypal'."""
    return PAYMENT_TOKEN.sub(r"\1[token]", text)


class PaymentTokenFilter(logging.Filter):
    """Django's request lines ('Not Found: /pay/…') and any other record keep no token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = payment_tokens_redacted(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class RefusalFilter(logging.Filter):
    """A refused action (403) is routine, not a fault: one line, without its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info, record.exc_text = None, None
        return True
