"""Production settings pass Django's deployment checks with no warning."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    environment = {
        **os.environ,
        "ORDERDESK_PRODUCTION": "true",
        "ORDERDESK_SECRET_KEY": secrets.token_urlsafe(64),
        "ORDERDESK_ALLOWED_HOSTS": "orders.example.com",
        "ORDERDESK_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
    }
    for test_only in ("ORDERDESK_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"):  # set by the test run
        environment.pop(test_only, None)
    completed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    environment = {**os.environ, "ORDERDESK_PRODUCTION": "true", "ORDERDESK_VAR_DIR": str(tmp_path)}
    environment.pop("ORDERDESK_SECRET_KEY", None)
    completed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "ORDERDESK_SECRET_KEY must be set in production" in completed.stderr
