"""A strict Content-Security-Policy on every page, no inline script or style in any template or
rendered page, and no caching of staff pages, API answers and exports."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from tests.security.screens import screens_build

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "orderdesk"
# E-mail bodies are not web pages: mail programs need inline styles, and the one page that
# shows them frames them from a document with its own policy (notifications.views.email_html).
EMAIL_TEMPLATES = "notifications/templates/notifications/email/"


class InlineFinder(HTMLParser):
    """Collects what a strict policy refuses: <style>, script without src, style= and on*=."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.found.append("<script> without src")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style={value!r} on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name == "href" and (value or "").lower().startswith("javascript:"):
                self.found.append(f"javascript: link on <{tag}>")


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def assert_strict(path: str, response) -> None:
    directives = policy(response)
    assert directives["frame-ancestors"] == ["'none'"], path
    assert directives["script-src"] == ["'self'"], path
    assert directives["style-src"] == ["'self'"], path
    assert directives["default-src"] == ["'self'"], path
    assert directives["object-src"] == ["'none'"], path
    assert "no-store" in response["Cache-Control"], path
    if "html" in response["Content-Type"]:
        assert inline_parts(response.content.decode()) == [], path


def test_the_finder_sees_every_kind_of_inline_script_and_style():
    html = (
        '<style>p{}</style><script>alert(1)</script><p style="color:red" onclick="x()">'
        '<a href="javascript:x()">x</a><script src="/a.js"></script>'
        '<script type="application/json">{}</script>'
    )
    assert len(inline_parts(html)) == 5


def test_no_template_holds_an_inline_script_or_style():
    offenders = {}
    for template in TEMPLATES.rglob("templates/**/*.html"):
        relative = str(template.relative_to(TEMPLATES))
        if relative.startswith(EMAIL_TEMPLATES):
            continue
        found = inline_parts(template.read_text())
        if found:
            offenders[relative] = found
    assert offenders == {}


def test_every_staff_page_has_the_strict_policy_and_no_inline_script_or_style(csr, supervisor):
    screens = screens_build(csr=csr)
    client = Client()
    client.force_login(supervisor)
    for path in screens.staff:
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_strict(path, response)


def test_every_customer_and_public_page_has_the_strict_policy(csr):
    screens = screens_build(csr=csr)
    for path in screens.customer + screens.anonymous + ["/healthz", "/api/openapi.json"]:
        response = Client().get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_strict(path, response)


def test_errors_and_redirects_carry_the_policy_too(csr):
    for path in ("/dashboard/", "/no-such-page/", "/api/orders"):
        response = Client().get(path)
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], path
        assert "no-store" in response["Cache-Control"], path


def test_api_answers_and_the_csv_export_are_not_stored(supervisor):
    client = Client()
    client.force_login(supervisor)
    for path in ("/api/orders", "/dashboard/unpaid.csv", "/metrics"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/dashboard/dashboard.css")
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_email_frame_alone_allows_inline_styles_and_only_orderdesk_may_frame_it(
    csr, supervisor
):
    screens_build(csr=csr)
    from orderdesk.notifications.models import OutboundEmail

    email = OutboundEmail.objects.exclude(body_html="").first()
    client = Client()
    client.force_login(supervisor)
    response = client.get(f"/emails/{email.pk}/html")
    directives = policy(response)
    assert directives["style-src"] == ["'unsafe-inline'"]
    assert directives["default-src"] == ["'none'"] and "script-src" not in directives
    assert directives["frame-ancestors"] == ["'self'"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert Client().get(f"/emails/{email.pk}/html").status_code == 302  # staff only


def test_a_staff_session_lasts_a_working_day(settings, csr):
    client = Client()
    response = client.post(
        "/login/", {"username": csr.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    assert response.cookies["sessionid"]["max-age"] == 10 * 3600


def test_the_session_lifetime_is_a_setting(monkeypatch):
    import subprocess
    import sys

    code = "from django.conf import settings; import django; django.setup(); print(settings.SESSION_COOKIE_AGE)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **__import__("os").environ,
            "ORDERDESK_SESSION_HOURS": "8",
            "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == str(8 * 3600)
