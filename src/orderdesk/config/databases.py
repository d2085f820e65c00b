"""The application's database and the sandbox ledger's, both from URLs."""

import copy
import os
from pathlib import Path

import dj_database_url

from orderdesk.config.environment import VAR_DIR

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'orderdesk.sqlite3'}"
# Connections are kept for a minute between requests (a new SQLite connection also runs
# the PRAGMAs below) and checked before reuse, so a restarted database costs one error-free
# reconnect.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the worker and the web server share the file; IMMEDIATE makes a
        # writing transaction take the lock up front instead of failing half-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }


def sandbox_database(default: dict) -> dict:
    """The sandbox gateway's ledger: its own connection, committing on its own, as a remote
    gateway's records do. ORDERDESK_SANDBOX_DATABASE_URL points it anywhere; by default it
    is a file beside SQLite's (SQLite has one writer per file), or the same PostgreSQL
    database reached over a second connection."""
    url = os.environ.get("ORDERDESK_SANDBOX_DATABASE_URL")
    if url:
        ledger = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    else:
        ledger = copy.deepcopy(default)
    if ledger["ENGINE"] == "django.db.backends.sqlite3" and not url:
        name = Path(default["NAME"])
        ledger["NAME"] = str(name.with_name(f"{name.stem}-sandbox{name.suffix}"))
    return ledger


DATABASES["sandbox"] = sandbox_database(DATABASES["default"])
DATABASE_ROUTERS = ["orderdesk.sandbox.routers.LedgerRouter"]
