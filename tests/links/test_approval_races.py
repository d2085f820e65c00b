"""A staff action while the customer's approval is at the gateway: the answer is recorded under
the order's lock, and a hold that is no longer wanted is released (PostgreSQL, real threads,
a slow sandbox gateway)."""

import threading
import time

import pytest
from django.db import connections

from orderdesk.links.models import LinkStatus
from orderdesk.links.services import (
    Outcome,
    link_checkout,
    link_revoke,
    link_send_price_increase,
    link_send_reauthorization,
)
from orderdesk.orders.models import EventKind, Order, OrderStatus
from orderdesk.orders.services import LineInput
from orderdesk.payments.models import LIVE, Authorization, AuthorizationStatus
from orderdesk.payments.services import void_steps_deliver
from orderdesk.payments.state import payment_state_compute
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.shipping import order_ship
from tests.factories import authorize, card_token, make_order

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

GATEWAY_LATENCY_MS = 1500


@pytest.fixture
def slow_authorizations(settings):
    """Only authorizing is slow: the staff action's own gateway calls (void, capture) are not."""
    settings.ORDERDESK_SANDBOX = {
        **settings.ORDERDESK_SANDBOX,
        "operations": {"authorize": {"latency_ms": GATEWAY_LATENCY_MS}},
    }


def approve_while(link, staff_action):
    """The customer approves in a thread; once their authorization is at the gateway, the
    staff action runs here. Returns the customer's result (or the exception raised)."""
    token = card_token()
    answer = {}

    def customer():
        try:
            answer["result"] = link_checkout(link=link, payment_token=token, method="card")
        except Exception as error:  # asserted on by the test
            answer["result"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=customer)
    thread.start()
    at_gateway = Authorization.objects.filter(
        order=link.order, status=AuthorizationStatus.PENDING, source="customer_link"
    )
    deadline = time.monotonic() + 10
    while not at_gateway.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert at_gateway.exists(), "the customer's payment never reached the gateway"
    staff_action()
    thread.join(timeout=30)
    void_steps_deliver()  # the worker releases what was decided to be released
    return answer["result"]


def assert_gateway_agrees():
    """orderdesk's record of every hold is what the sandbox's ledger says."""
    for authorization in Authorization.objects.all():
        ledger = SandboxTransaction.objects.get(reference=authorization.gateway_reference)
        assert ledger.status == authorization.status, authorization


def live_holds(order):
    return list(Authorization.objects.filter(order=order, status__in=LIVE))


def held_order(**kwargs):
    order = make_order(**kwargs)
    earlier = authorize(order)
    return order, earlier


def test_a_csr_revoking_the_link_while_the_customer_pays_releases_the_new_hold(
    slow_authorizations, csr
):
    order, earlier = held_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    result = approve_while(sent.link, lambda: link_revoke(link=sent.link, actor=csr))
    assert result.outcome == Outcome.RELEASED, result
    assert "not charged" in result.message and "revoked" in result.message
    assert live_holds(order) == [earlier]  # the revoked link replaced nothing
    new = Authorization.objects.get(order=order, source="customer_link")
    assert new.status == AuthorizationStatus.VOIDED
    assert SandboxTransaction.objects.get(reference=new.gateway_reference).status == "voided"
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.REVOKED
    revoked = order.events.get(kind=EventKind.LINK_REVOKED)
    assert "the customer's payment was at the payment service" in revoked.message
    assert order.events.filter(kind=EventKind.NOTE, message__contains="released").count() == 1
    assert not order.events.filter(kind=EventKind.APPROVED).exists()
    order.refresh_from_db()
    assert order.payment_state == payment_state_compute(order).state
    assert_gateway_agrees()


def test_a_supervisor_cancelling_while_the_customer_pays_leaves_no_live_hold(
    slow_authorizations, supervisor
):
    order, _ = held_order()
    sent = link_send_reauthorization(order=order, actor=supervisor)
    result = approve_while(sent.link, lambda: order_cancel(order=order, actor=supervisor))
    assert result.outcome == Outcome.RELEASED, result
    assert f"order {order.number} was cancelled" in result.message
    assert live_holds(order) == []
    assert SandboxTransaction.objects.filter(kind="authorization", status="authorized").count() == 0
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.REVOKED
    assert not order.events.filter(kind=EventKind.APPROVED).exists()
    order.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.CANCELLED, "void")
    assert_gateway_agrees()


def test_a_csr_shipping_while_the_customer_pays_never_voids_the_captured_hold(
    slow_authorizations, csr
):
    order, earlier = held_order(status="ready_to_ship")
    sent = link_send_reauthorization(order=order, actor=csr)
    result = approve_while(sent.link, lambda: order_ship(order=order, actor=csr))
    assert result.outcome == Outcome.RELEASED, result
    assert f"order {order.number} has shipped" in result.message
    earlier.refresh_from_db()
    assert earlier.status == AuthorizationStatus.CAPTURED
    assert SandboxTransaction.objects.get(reference=earlier.gateway_reference).status == "captured"
    assert live_holds(order) == []
    assert not order.events.filter(message__contains="refused to void").exists()
    order.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, "paid")
    assert_gateway_agrees()


def test_a_price_increase_approved_while_a_supervisor_cancels_replaces_nothing(
    slow_authorizations, supervisor
):
    order, _ = held_order(total=10_000)
    sent = link_send_price_increase(
        order=order, actor=supervisor, lines=[LineInput(description="Repair", unit_price=15_000)]
    )
    result = approve_while(sent.link, lambda: order_cancel(order=order, actor=supervisor))
    assert result.outcome == Outcome.RELEASED, result
    assert not Order.objects.filter(supersedes=order).exists()
    assert Authorization.objects.filter(status__in=LIVE).count() == 0
    order.refresh_from_db()
    assert order.cancel_reason != "replaced"
    assert_gateway_agrees()


def test_a_new_link_sent_while_the_customer_pays_the_old_one_releases_its_hold(
    slow_authorizations, csr
):
    order, earlier = held_order()
    first = link_send_reauthorization(order=order, actor=csr)
    result = approve_while(
        first.link, lambda: link_send_reauthorization(order=order, actor=csr, confirm=True)
    )
    assert result.outcome == Outcome.RELEASED, result
    assert "revoked" in result.message
    assert live_holds(order) == [earlier]
    second = order.payment_links.get(status=LinkStatus.OPEN)
    assert second.pk != first.link.pk
    order.refresh_from_db()
    assert order.payment_state == "awaiting_customer"  # the new link waits for the customer
    assert_gateway_agrees()
