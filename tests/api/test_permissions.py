"""Every endpoint × every caller: anonymous, bad key, revoked key, CSR key, supervisor key."""

import pytest

from tests.api.conftest import ApiClient, key_for
from tests.factories import authorize, make_order

pytestmark = pytest.mark.django_db

NEW_ORDER = {
    "account": {"email": "matrix@example.com", "name": "Matrix Customer"},
    "kind": "sale",
    "payment_method": "card",
    "lines": [{"description": "Charger", "unit_price": 2_500}],
}

# (method, path, body, CSR status, supervisor status)
ENDPOINTS = [
    ("get", "/orders", None, 200, 200),
    ("get", "/orders/{number}", None, 200, 200),
    ("post", "/orders", NEW_ORDER, 201, 201),
    ("post", "/orders/{number}/status", {"status": "in_progress"}, 200, 200),
    ("post", "/orders/{number}/ship", {}, 409, 409),  # open, not ready: refused by the rules
    ("post", "/orders/{number}/cancel", {"note": "test"}, 403, 200),
    ("post", "/orders/{number}/notes", {"text": "called the customer"}, 201, 201),
    (
        "put",
        "/orders/{number}/estimated-delivery-date",
        {"estimated_delivery_date": "2031-01-02"},
        200,
        200,
    ),
    (
        "post",
        "/orders/{number}/external-payments",
        {"amount": 100, "reference": "BANK-1", "reason": "wire transfer"},
        403,
        201,
    ),
    ("get", "/unpaid", None, 200, 200),
]
IDS = [f"{method} {path}" for method, path, *_ in ENDPOINTS]


def call(client, method, path, body, order):
    path = path.format(number=order.number)
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body)


@pytest.mark.parametrize(
    ("method", "path", "body", "csr_status", "supervisor_status"), ENDPOINTS, ids=IDS
)
def test_anonymous_bad_and_revoked_keys_get_401(
    method, path, body, csr_status, supervisor_status, anonymous_api, bad_key_api, revoked_api
):
    order = make_order()
    for client in (anonymous_api, bad_key_api, revoked_api):
        response = call(client, method, path, body, order)
        assert response.status_code == 401, (client.headers, response.content)
        assert response.json()["detail"][0]["reason"]
    assert order.events.count() == 1  # only "created": nothing happened


@pytest.mark.parametrize(
    ("method", "path", "body", "csr_status", "supervisor_status"), ENDPOINTS, ids=IDS
)
def test_csr_key(method, path, body, csr_status, supervisor_status, csr_api):
    order = make_order()
    response = call(csr_api, method, path, body, order)
    assert response.status_code == csr_status, response.content
    if csr_status == 403:
        assert order.events.count() == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "csr_status", "supervisor_status"), ENDPOINTS, ids=IDS
)
def test_supervisor_key(method, path, body, csr_status, supervisor_status, supervisor_api):
    order = make_order()
    response = call(supervisor_api, method, path, body, order)
    assert response.status_code == supervisor_status, response.content


def test_a_key_of_a_user_who_left_stops_working(csr):
    client = ApiClient(key_for(csr))
    assert client.get("/orders").status_code == 200
    csr.is_active = False
    csr.save()
    assert client.get("/orders").status_code == 401


def test_a_key_of_a_user_without_a_role_is_forbidden(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("norole", password="x", is_staff=True)
    response = ApiClient(key_for(user)).get("/orders")
    assert response.status_code == 403
    assert "orders.view_order" in response.json()["detail"][0]["reason"]


def test_a_csr_may_ship_a_secured_order_but_not_override_the_gate(csr_api, supervisor_api):
    secured = make_order(status="ready_to_ship")
    authorize(secured)
    assert csr_api.post(f"/orders/{secured.number}/ship", {}).status_code == 200
    unsecured = make_order(status="ready_to_ship")
    response = csr_api.post(f"/orders/{unsecured.number}/ship", {"override_reason": "VIP"})
    assert response.status_code == 403
    unsecured.refresh_from_db()
    assert unsecured.status == "ready_to_ship"
    response = supervisor_api.post(f"/orders/{unsecured.number}/ship", {"override_reason": "VIP"})
    assert response.status_code == 200
    assert response.json()["status"] == "shipped"


class TestStaffSession:
    def test_a_logged_in_csr_reads_with_the_session(self, csr):
        client = ApiClient()
        client.client.force_login(csr)
        assert client.get("/orders").status_code == 200

    def test_a_session_write_needs_the_csrf_token(self, csr):
        order = make_order()
        client = ApiClient()
        client.client = type(client.client)(enforce_csrf_checks=True)
        client.client.force_login(csr)
        response = client.post(f"/orders/{order.number}/notes", {"text": "hello"})
        assert response.status_code == 403
        from django.utils.crypto import get_random_string

        token = get_random_string(32)
        client.client.cookies["csrftoken"] = token
        response = client.post(
            f"/orders/{order.number}/notes", {"text": "hello"}, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 201

    def test_a_customer_without_staff_status_is_not_let_in(self, db):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user("shopper", password="x")
        client = ApiClient()
        client.client.force_login(user)
        assert client.get("/orders").status_code == 401
