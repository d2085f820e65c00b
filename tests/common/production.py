"""`manage.py check --deploy` in a process of its own, with production settings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Set by the test run, never by a deployment.
TEST_ONLY = ("ORDERDESK_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")


def check_deploy(tmp_path, *, unset=(), **extra) -> subprocess.CompletedProcess:
    """Run the deployment checks with production settings plus `extra`, without the test
    run's own variables and without those named in `unset`."""
    environment = {
        **os.environ,
        "ORDERDESK_PRODUCTION": "true",
        "ORDERDESK_SECRET_KEY": secrets.token_urlsafe(64),
        "ORDERDESK_ALLOWED_HOSTS": "orders.example.com",
        "ORDERDESK_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
        **extra,
    }
    for name in (*TEST_ONLY, *unset):
        if name not in extra:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )
