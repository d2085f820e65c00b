"""Log lines: plain or JSON, each carrying its request id, payment tokens masked."""

import os

# Logs: plain lines, or one JSON object a line with ORDERDESK_LOG_FORMAT=json; either way each
# line a request causes carries its id (X-Request-ID, taken from the proxy or made here).
ORDERDESK_LOG_FORMAT = os.environ.get("ORDERDESK_LOG_FORMAT", "plain")
if ORDERDESK_LOG_FORMAT not in ("plain", "json"):
    raise RuntimeError(f"ORDERDESK_LOG_FORMAT must be plain or json, not {ORDERDESK_LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "orderdesk.common.logs.RequestIdFilter"},
        "payment_tokens": {"()": "orderdesk.common.logs.PaymentTokenFilter"},
        "refusals": {"()": "orderdesk.common.logs.RefusalFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "orderdesk.common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": ORDERDESK_LOG_FORMAT,
            "filters": ["request_id", "payment_tokens", "refusals"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("ORDERDESK_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
