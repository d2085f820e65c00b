"""Two-factor log-in for staff (django-otp TOTP): enrolment from one's own page, log-in with
a code or a one-use recovery code, required for supervisors with ORDERDESK_REQUIRE_2FA."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct-horse-battery"
pytestmark = pytest.mark.django_db


def code_now(device: TOTPDevice, *, later_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + later_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def log_in(client, user, token=""):
    return client.post(
        "/login/", {"username": user.username, "password": PASSWORD, "otp_token": token}
    )


def enrol(client, user) -> tuple[TOTPDevice, list[str]]:
    page = client.get("/security/two-factor/").content.decode()
    assert "Turn on two-factor log-in" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/security/two-factor/", {"token": code_now(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([^<]+)</code></li>", response.content.decode())
    device.refresh_from_db()
    return device, codes


def test_a_csr_turns_on_two_factor_from_their_own_page_and_gets_recovery_codes(csr):
    client = Client()
    assert log_in(client, csr).status_code == 302
    device, codes = enrol(client, csr)
    assert device.confirmed and len(codes) == 10 and len(set(codes)) == 10
    assert (
        "Two-factor log-in is <strong>on</strong>"
        in client.get("/security/two-factor/").content.decode()
    )
    assert client.get("/dashboard/").status_code == 200  # this session passed the factor


def test_a_wrong_first_code_does_not_turn_it_on(csr):
    client = Client()
    log_in(client, csr)
    client.get("/security/two-factor/")
    response = client.post("/security/two-factor/", {"token": "000000"})
    assert response.status_code == 400
    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=csr, confirmed=True).exists()


def test_with_two_factor_on_the_password_alone_does_not_log_in(csr):
    enrolling = Client()
    log_in(enrolling, csr)
    enrol(enrolling, csr)
    client = Client()
    response = log_in(client, csr)
    assert response.status_code == 200
    assert "Enter the 6-digit code from your authenticator app" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_with_two_factor_on_the_password_and_a_code_log_in(csr):
    enrolling = Client()
    log_in(enrolling, csr)
    device, _ = enrol(enrolling, csr)
    client = Client()
    assert log_in(client, csr, code_now(device, later_steps=1)).status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_a_recovery_code_logs_in_once(csr):
    enrolling = Client()
    log_in(enrolling, csr)
    _, codes = enrol(enrolling, csr)
    assert log_in(Client(), csr, codes[0]).status_code == 302
    assert log_in(Client(), csr, codes[0]).status_code == 200  # used up
    # A failed code slows the next try down (django-otp's throttling): wait it out.
    with time_machine.travel(timedelta(seconds=30)):
        assert log_in(Client(), csr, codes[1]).status_code == 302


def test_a_session_that_skipped_the_second_factor_is_sent_back_to_log_in(csr):
    enrolling = Client()
    log_in(enrolling, csr)
    enrol(enrolling, csr)
    client = Client()
    client.force_login(csr)  # as the admin's password-only log-in would leave it
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_supervisors_must_turn_it_on_when_the_setting_says_so(settings, supervisor, csr):
    settings.ORDERDESK_REQUIRE_2FA = True
    client = Client()
    log_in(client, supervisor)
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"] == "/security/two-factor/"
    enrol(client, supervisor)
    assert client.get("/dashboard/").status_code == 200
    other = Client()
    log_in(other, csr)
    assert other.get("/dashboard/").status_code == 200  # CSRs are not required to


def test_without_the_setting_supervisors_may_log_in_with_a_password(supervisor):
    client = Client()
    log_in(client, supervisor)
    assert client.get("/dashboard/").status_code == 200


def device_queries(client, path="/dashboard/") -> tuple[int, int]:
    """The page's status and how many of its queries read two-factor devices."""
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    return status, sum('"otp_' in query["sql"] for query in queries.captured_queries)


def test_a_staff_page_reads_no_device_when_the_log_in_noted_two_factor_is_off(csr):
    client = Client()
    log_in(client, csr)
    assert device_queries(client) == (200, 0)


def test_a_staff_page_of_a_verified_session_reads_its_device_once(csr):
    enrolling = Client()
    log_in(enrolling, csr)
    device, _ = enrol(enrolling, csr)
    client = Client()
    log_in(client, csr, code_now(device, later_steps=1))
    # django-otp loads the session's device to know it still exists: that one read only.
    assert device_queries(client) == (200, 1)
    assert device_queries(client) == (200, 1)


def test_a_session_made_without_the_log_in_form_asks_once_then_knows(csr):
    client = Client()
    client.force_login(csr)  # as the admin's password-only log-in would leave it
    assert device_queries(client) == (200, 1)
    assert device_queries(client) == (200, 0)
    assert device_queries(client, "/security/audit/")[1] == 0
