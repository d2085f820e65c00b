"""Every dashboard view and action × every kind of visitor: exact answers, and refusals change nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from orderdesk.sandbox.models import SandboxTransaction
from tests.factories import authorize, card_token, make_order

pytestmark = pytest.mark.django_db

PAGES = ["dashboard:index", "dashboard:unpaid-csv", "dashboard:order"]
ACTIONS = {
    "dashboard:order-assign": lambda: {},
    "dashboard:order-date": lambda: {"estimated_delivery_date": "2030-01-15"},
    "dashboard:order-status": lambda: {"to": "in_progress"},
    "dashboard:order-note": lambda: {"text": "Called the customer"},
    "dashboard:order-card": lambda: {"payment_token": card_token()},
    "dashboard:order-external-payment": lambda: {
        "amount": "125.00",
        "reference": "WIRE-1",
        "reason": "Paid by bank transfer",
    },
    "dashboard:order-ship": lambda: {},
    "dashboard:order-cancel": lambda: {"reason": "customer_request", "note": "asked"},
}
SUPERVISOR_ONLY = {"dashboard:order-external-payment", "dashboard:order-cancel"}
ROLES = ["anonymous", "customer", "staff_without_role", "csr", "supervisor"]


@pytest.fixture
def visitor(request, client, csr, supervisor):
    role = request.param
    users = get_user_model().objects
    if role == "customer":
        client.force_login(users.create_user("shopper", password="a-long-password-1"))
    elif role == "staff_without_role":
        client.force_login(users.create_user("intern", password="a-long-password-1", is_staff=True))
    elif role in ("csr", "supervisor"):
        client.force_login({"csr": csr, "supervisor": supervisor}[role])
    return role


def matrix_order(action: str):
    order = make_order(status="ready_to_ship")
    if action == "dashboard:order-ship":
        authorize(order)
    return order


def snapshot(order):
    order.refresh_from_db()
    return {
        "status": order.status,
        "payment_state": order.payment_state,
        "assigned_to": order.assigned_to_id,
        "estimated_delivery_date": order.estimated_delivery_date,
        "events": order.events.count(),
        "authorizations": list(order.authorizations.values_list("status", flat=True)),
        "external_payments": order.external_payments.count(),
        "gateway_calls": SandboxTransaction.objects.count(),
    }


def url_of(name: str, order) -> str:
    return (
        reverse(name, args=[order.number]) if name.startswith("dashboard:order") else reverse(name)
    )


@pytest.mark.parametrize("visitor", ROLES, indirect=True)
@pytest.mark.parametrize("name", PAGES)
def test_pages(client, visitor, name):
    order = make_order()
    url = url_of(name, order)
    response = client.get(url)
    if visitor == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={url}"
    elif visitor in ("customer", "staff_without_role"):
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("visitor", ROLES, indirect=True)
@pytest.mark.parametrize("name", list(ACTIONS))
def test_actions(client, visitor, name):
    order = matrix_order(name)
    before = snapshot(order)
    url = url_of(name, order)
    response = client.post(url, ACTIONS[name]())
    allowed = visitor == "supervisor" or (visitor == "csr" and name not in SUPERVISOR_ONLY)
    if allowed:
        assert response.status_code == 302
        assert response["Location"] == f"/orders/{order.number}/"
        assert snapshot(order) != before
        return
    if visitor == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={url}"
    else:
        assert response.status_code == 403
    assert snapshot(order) == before


@pytest.mark.parametrize("visitor", ROLES, indirect=True)
@pytest.mark.parametrize("name", list(ACTIONS))
def test_actions_refuse_get(client, visitor, name):
    order = matrix_order(name)
    before = snapshot(order)
    assert client.get(url_of(name, order)).status_code == 405
    assert snapshot(order) == before


@pytest.mark.parametrize("visitor", ["csr"], indirect=True)
def test_a_csr_cannot_override_the_ship_gate_by_posting_a_reason(client, visitor):
    order = make_order(status="ready_to_ship")
    before = snapshot(order)
    response = client.post(
        reverse("dashboard:order-ship", args=[order.number]), {"override_reason": "trust me"}
    )
    assert response.status_code == 403
    assert snapshot(order) == before


@pytest.mark.parametrize("visitor", ["csr", "supervisor"], indirect=True)
def test_an_unknown_order_is_404(client, visitor):
    assert client.get("/orders/NOPE-1/").status_code == 404
    assert client.post("/orders/NOPE-1/notes", {"text": "x"}).status_code == 404


def test_actions_need_the_csrf_token(csr):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(csr)
    order = make_order()
    before = snapshot(order)
    response = client.post(reverse("dashboard:order-note", args=[order.number]), {"text": "x"})
    assert response.status_code == 403
    assert snapshot(order) == before


# -- the CRM screen: supervisors only ---------------------------------------------------


def failed_crm_message():
    from orderdesk.crm.models import CrmMessage, CrmMessageStatus
    from orderdesk.crm.services import crm_message_queue

    message = crm_message_queue(
        topic="order.replaced", payload={}, dedupe_key="matrix", order=make_order()
    )
    CrmMessage.objects.filter(pk=message.pk).update(
        status=CrmMessageStatus.FAILED, attempts=8, last_error="webhook answered 500"
    )
    return message


def crm_snapshot(message):
    message.refresh_from_db()
    return (message.status, message.attempts, message.next_attempt_at, message.task_id)


@pytest.mark.parametrize("visitor", ROLES, indirect=True)
def test_the_crm_screen_is_for_supervisors_only(client, visitor):
    response = client.get(reverse("dashboard:crm"))
    if visitor == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=/dashboard/crm/"
    elif visitor == "supervisor":
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("visitor", ROLES, indirect=True)
def test_only_a_supervisor_can_retry_a_crm_message(client, visitor):
    message = failed_crm_message()
    before = crm_snapshot(message)
    url = reverse("dashboard:crm-retry", args=[message.pk])
    assert client.get(url).status_code == 405
    assert crm_snapshot(message) == before

    response = client.post(url)

    if visitor == "supervisor":
        assert (response.status_code, response["Location"]) == (302, "/dashboard/crm/")
        assert crm_snapshot(message) != before
        return
    if visitor == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={url}"
    else:
        assert response.status_code == 403
    assert crm_snapshot(message) == before


def test_the_crm_retry_needs_the_csrf_token(supervisor):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    message = failed_crm_message()
    before = crm_snapshot(message)
    response = client.post(reverse("dashboard:crm-retry", args=[message.pk]))
    assert response.status_code == 403
    assert crm_snapshot(message) == before
