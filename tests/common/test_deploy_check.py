"""Production settings pass Django's deployment checks with no warning."""

import os
import subprocess
import sys
from pathlib import Path

from tests.common.production import check_deploy

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    completed = check_deploy(tmp_path)
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
