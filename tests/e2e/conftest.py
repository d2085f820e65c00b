"""Shared fixtures of the browser tests: Debian's Chromium, a live server, logged-in pages.

Browser tests are marked `e2e`; every file here may use `staff_page`, `csr_page`,
`supervisor_page`, `login` and `screenshot`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# A page that answers in 50 ms alone can take seconds on a shared 2-core machine with the
# rest of the suite running: wait for what a person would wait for, not Playwright's 5 s.
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-battery"  # what tests.factories.make_staff sets


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A laptop-sized window; tests that check tablets set their own viewport.
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}}


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def login(live_server):
    """Log a page in through the real log-in form: login(page, user)."""

    def do_login(page, user, password: str = PASSWORD):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r".*/dashboard/.*"))
        return page

    return do_login


@pytest.fixture
def csr_page(page, csr, login):
    return login(page, csr)


@pytest.fixture
def supervisor_page(page, supervisor, login):
    return login(page, supervisor)


@pytest.fixture
def screenshot():
    """screenshot(page, "dashboard-csr") saves test-artifacts/<name>.png (full page)."""

    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
