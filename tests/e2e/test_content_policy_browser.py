"""Chromium loads every screen under the strict Content-Security-Policy and reports no
violation: no blocked inline script or style, no script or style from elsewhere."""

from __future__ import annotations

import pytest

from tests.security.screens import screens_build

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline'));
});
"""


def violations_on(page, url: str) -> list[str]:
    messages: list[str] = []
    page.on(
        "console",
        lambda message: (
            messages.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.goto(url)
    page.wait_for_load_state("networkidle")
    found = page.evaluate("window.__violations") or []
    return found + messages


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(WATCH)
    yield context
    context.close()


def test_every_screen_loads_with_no_content_policy_violation(
    live_server, watched, csr, supervisor, login
):
    screens = screens_build(csr=csr)
    page = watched.new_page()
    reported = {}
    for path in screens.anonymous + screens.customer:
        found = violations_on(page, live_server.url + path)
        if found:
            reported[path] = found
    login(page, supervisor)
    for path in screens.staff:
        found = violations_on(page, live_server.url + path)
        if found:
            reported[path] = found
    assert reported == {}


def test_the_order_screen_still_works_with_htmx_under_the_policy(live_server, watched, csr, login):
    screens_build(csr=csr)
    page = watched.new_page()
    login(page, csr)
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="CSP-1").first.click()
    page.wait_for_url("**/orders/CSP-1/")
    assert page.evaluate("window.__violations") == []
    assert page.evaluate("typeof window.htmx") == "object"
