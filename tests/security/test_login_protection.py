"""Log-in protection: lockout per user name and per address (django-axes), supervisor unlock,
log-in and API key failures throttled over the shared cache (django-ratelimit)."""

import pytest
from django.test import Client

from orderdesk.security.models import SecurityEvent, SecurityEventKind
from tests.api.conftest import ApiClient, key_for
from tests.factories import make_staff

PASSWORD = "correct-horse-battery"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def three_failures_lock(settings):
    settings.AXES_FAILURE_LIMIT = 3


def log_in(client, username, password, *, address="10.1.1.1", path="/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, username, times, *, address="10.1.1.1", path="/login/"):
    for _ in range(times):
        response = log_in(client, username, "wrong-password", address=address, path=path)
        assert response.status_code in (200, 429)
    return response


def test_the_right_password_is_refused_once_a_user_name_reached_the_failure_limit(csr):
    client = Client()
    fail(client, csr.username, 3)
    response = log_in(client, csr.username, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Log-in locked" in page and "ask a supervisor to unlock it" in page
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_do_not_lock_and_a_success_resets_them(csr):
    client = Client()
    fail(client, csr.username, 2)
    assert log_in(client, csr.username, PASSWORD).status_code == 302
    client.post("/logout/")
    fail(client, csr.username, 2)
    assert log_in(client, csr.username, PASSWORD).status_code == 302


def test_a_user_name_is_locked_from_every_address(csr):
    for number in range(3):
        fail(Client(), csr.username, 1, address=f"10.2.0.{number}")
    assert log_in(Client(), csr.username, PASSWORD, address="10.2.0.99").status_code == 429


def test_an_address_guessing_many_user_names_is_locked_for_all_of_them(csr):
    client = Client()
    for name in ("alice", "bob", "carol"):
        fail(client, name, 1, address="10.3.0.1")
    assert log_in(client, csr.username, PASSWORD, address="10.3.0.1").status_code == 429
    assert log_in(Client(), csr.username, PASSWORD, address="10.3.0.2").status_code == 302


def test_the_admin_log_in_locks_out_the_same_way(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client()
    fail(client, "root", 3, path="/admin/login/")
    response = log_in(client, "root", PASSWORD, path="/admin/login/")
    assert response.status_code == 429 and "Log-in locked" in response.content.decode()


def test_a_lockout_is_recorded_for_the_audit(csr):
    fail(Client(), csr.username, 3)
    event = SecurityEvent.objects.get(kind=SecurityEventKind.LOCKED_OUT, username=csr.username)
    assert event.ip_address == "10.1.1.1" and "failed log-ins" in event.message


def test_a_supervisor_unlocks_a_user_name_and_the_user_logs_in(csr, supervisor):
    fail(Client(), csr.username, 3)
    desk = Client()
    desk.force_login(supervisor)
    screen = desk.get("/security/lockouts/").content.decode()
    assert csr.username in screen and "Unlock" in screen
    response = desk.post(
        "/security/lockouts/unlock",
        {"locked_by": "username", "value": csr.username, "reason": "called the help desk"},
        follow=True,
    )
    assert f"Unlocked the user name {csr.username}" in response.content.decode()
    unlocked = SecurityEvent.objects.get(kind=SecurityEventKind.UNLOCKED)
    assert (unlocked.actor, unlocked.username, unlocked.reason) == (
        supervisor,
        csr.username,
        "called the help desk",
    )
    assert log_in(Client(), csr.username, PASSWORD, address="10.9.9.9").status_code == 302


def test_a_supervisor_unlocks_an_address(csr, supervisor):
    for name in ("alice", "bob", "carol"):
        fail(Client(), name, 1, address="10.4.0.1")
    desk = Client()
    desk.force_login(supervisor)
    desk.post("/security/lockouts/unlock", {"locked_by": "ip_address", "value": "10.4.0.1"})
    assert log_in(Client(), csr.username, PASSWORD, address="10.4.0.1").status_code == 302


def test_a_csr_can_neither_see_nor_lift_lockouts(csr):
    other = make_staff("csr")
    fail(Client(), other.username, 3)
    client = Client()
    client.force_login(csr)
    assert client.get("/security/lockouts/").status_code == 403
    response = client.post(
        "/security/lockouts/unlock", {"locked_by": "username", "value": other.username}
    )
    assert response.status_code == 403
    assert not SecurityEvent.objects.filter(kind=SecurityEventKind.UNLOCKED).exists()


def test_log_in_posts_per_address_are_limited(settings, csr):
    settings.AXES_FAILURE_LIMIT = 100
    settings.ORDERDESK_LOGIN_RATE_PER_ADDRESS = 4
    client = Client()
    codes = [log_in(client, "nobody", "wrong", address="10.5.0.1").status_code for _ in range(5)]
    assert codes == [200] * 4 + [429]
    assert log_in(client, csr.username, PASSWORD, address="10.5.0.1").status_code == 429
    assert log_in(Client(), csr.username, PASSWORD, address="10.5.0.2").status_code == 302


def test_wrong_api_keys_from_an_address_are_throttled_even_the_right_key_then(settings, csr):
    settings.ORDERDESK_API_KEY_FAILURE_LIMIT = 5
    good = key_for(csr)
    wrong = ApiClient("od_0123456789ab_not-the-secret")
    wrong.client.defaults["REMOTE_ADDR"] = "10.6.0.1"
    codes = [wrong.get("/orders").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    right = ApiClient(good)
    right.client.defaults["REMOTE_ADDR"] = "10.6.0.1"
    assert right.get("/orders").status_code == 429
    elsewhere = ApiClient(good)
    elsewhere.client.defaults["REMOTE_ADDR"] = "10.6.0.2"
    assert elsewhere.get("/orders").status_code == 200


def test_api_requests_per_address_are_limited(settings, csr):
    settings.ORDERDESK_API_RATE_PER_ADDRESS = 3
    api = ApiClient(key_for(csr))
    codes = [api.get("/orders").status_code for _ in range(4)]
    assert codes == [200] * 3 + [429]
    assert api.get("/orders").json()["detail"][0]["reason"] == "Too many requests."
