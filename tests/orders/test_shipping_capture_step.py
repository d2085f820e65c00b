"""Shipping captures outside the order's lock, as a step of its own: the order ships when
the capture is settled, in time or by reconciliation, and is never captured twice."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connections, transaction

from orderdesk.common.clock import now
from orderdesk.orders.models import EventKind, Order, OrderStatus, PaymentState
from orderdesk.payments.gateways.sandbox import SERVER_ERROR, TIMEOUT, inject_faults
from orderdesk.payments.models import (
    AuthorizationStatus,
    Capture,
    GatewayStep,
    StepKind,
    StepStatus,
)
from orderdesk.payments.services import authorization_void, void_steps_deliver
from orderdesk.payments.state import payment_state_compute
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.shipping import ShipmentRefused, order_ship, shipments_reconcile
from tests.factories import authorize, make_order

RECONCILED_AT = timedelta(seconds=31)  # after the first backoff (30 s)


def ledger_captures():
    return SandboxTransaction.objects.filter(kind="capture", status="captured")


@pytest.mark.django_db
def test_a_capture_whose_answer_was_lost_ships_when_reconciliation_finds_it_captured(csr):
    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    with inject_faults(TIMEOUT, operation="capture"):
        returned = order_ship(order=order, actor=csr)  # the sandbox captured; answer lost
    assert returned.status == OrderStatus.READY_TO_SHIP
    step = GatewayStep.objects.get(kind=StepKind.CAPTURE)
    assert step.status == StepStatus.UNKNOWN
    assert not Capture.objects.exists()
    assert ledger_captures().count() == 1
    assert shipments_reconcile() == 0  # not before the backoff
    with time_machine.travel(now() + RECONCILED_AT, tick=False):
        assert shipments_reconcile() == 1
        assert shipments_reconcile() == 0  # settled once
    order.refresh_from_db()
    authorization.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.PAID)
    assert order.payment_state == payment_state_compute(order).state
    assert authorization.status == AuthorizationStatus.CAPTURED
    capture = Capture.objects.get()
    assert (capture.amount, capture.idempotency_key) == (order.total, step.idempotency_key)
    # The ledger's capture, found by the step's idempotency key.
    assert capture.gateway_reference == ledger_captures().get().reference
    assert order.events.filter(kind=EventKind.SHIPPED).get().actor == csr


@pytest.mark.django_db
def test_the_order_screen_says_the_capture_is_being_confirmed(client, csr):
    from django.urls import reverse

    order = make_order(status="ready_to_ship")
    authorize(order)
    with inject_faults(TIMEOUT, operation="capture"):
        order_ship(order=order, actor=csr)
    client.force_login(csr)
    screen = client.get(reverse("dashboard:order", args=[order.number])).content.decode()
    assert "Capture of USD 125.00 being confirmed with the gateway" in screen


@pytest.mark.django_db
def test_a_capture_the_gateway_never_made_leaves_the_order_ready_to_ship(csr):
    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    with inject_faults(TIMEOUT, operation="capture"):
        order_ship(order=order, actor=csr)
    SandboxTransaction.objects.filter(kind="capture").delete()  # as if it never arrived
    SandboxTransaction.objects.filter(reference=authorization.gateway_reference).update(
        status="authorized"
    )
    with time_machine.travel(now() + RECONCILED_AT, tick=False):
        assert shipments_reconcile() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_SHIP
    assert GatewayStep.objects.get().status == StepStatus.FAILED
    refused = order.events.filter(kind=EventKind.SHIP_REFUSED).get()
    assert "did not capture it" in refused.message
    order_ship(order=order, actor=csr)  # shipping again captures, once
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert ledger_captures().count() == 1


@pytest.mark.django_db
def test_a_capture_step_abandoned_by_a_killed_process_is_reconciled(csr, settings):
    from orderdesk.payments.services import capture_step_begin
    from orderdesk.sandbox import server

    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    with transaction.atomic():
        step = capture_step_begin(order=Order.objects.select_for_update().get(pk=order.pk))
    # The process called the gateway and was killed before recording the answer.
    server.capture(
        reference=authorization.gateway_reference,
        amount=step.amount,
        idempotency_key=step.idempotency_key,
    )
    with time_machine.travel(now() + timedelta(seconds=90), tick=False):
        assert shipments_reconcile() == 0  # still within the gateway's budget
    with time_machine.travel(now() + timedelta(hours=1), tick=False):
        shipments_reconcile()  # pending → unknown
    with time_machine.travel(now() + timedelta(hours=2), tick=False):
        assert shipments_reconcile() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert Capture.objects.get().idempotency_key == step.idempotency_key


@pytest.mark.django_db
def test_a_void_is_never_aimed_at_a_hold_whose_capture_is_in_flight(csr):
    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    with inject_faults(TIMEOUT, operation="capture"):
        order_ship(order=order, actor=csr)  # captured at the gateway, the answer lost
    authorization_void(authorization, reason="replaced by the customer's new authorization")
    assert void_steps_deliver() == {"deferred": 1}  # waits for the capture's answer
    with time_machine.travel(now() + RECONCILED_AT, tick=False):
        assert shipments_reconcile() == 1
        assert void_steps_deliver() == {StepStatus.CANCELLED: 1}
    assert not SandboxTransaction.objects.filter(kind="void").exists()
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.CAPTURED
    note = order.events.filter(kind=EventKind.NOTE).get()
    assert note.message == "Void not sent: the authorization is captured already"


@pytest.mark.django_db
def test_an_order_cannot_be_cancelled_while_its_capture_is_being_confirmed(csr, supervisor):
    from orderdesk.common.errors import BusinessRuleError

    order = make_order(status="ready_to_ship")
    authorize(order)
    with inject_faults(TIMEOUT, operation="capture"):
        order_ship(order=order, actor=csr)
    with pytest.raises(BusinessRuleError, match="being confirmed with the gateway"):
        order_cancel(order=order, actor=supervisor)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_SHIP
    assert not GatewayStep.objects.filter(kind=StepKind.VOID).exists()


@pytest.mark.django_db
def test_a_capture_refused_with_a_5xx_records_a_failed_step_and_ships_nothing(csr):
    order = make_order(status="ready_to_ship")
    authorize(order)
    with inject_faults(SERVER_ERROR, operation="capture"), pytest.raises(ShipmentRefused):
        order_ship(order=order, actor=csr)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_SHIP
    step = GatewayStep.objects.get()
    assert (step.status, step.last_error) == (
        StepStatus.FAILED,
        "The gateway did not confirm the capture (sandbox gateway answered 503); try again.",
    )


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_order_is_not_locked_while_the_capture_is_at_the_gateway(csr, settings):
    sandbox = settings.ORDERDESK_SANDBOX
    settings.ORDERDESK_SANDBOX = {**sandbox, "operations": {"capture": {"latency_ms": 1500}}}
    order = make_order(status="ready_to_ship")
    authorize(order)
    outcome = {}

    def ship():
        try:
            outcome["order"] = order_ship(order=order, actor=csr)
        finally:
            connections.close_all()

    shipping = threading.Thread(target=ship)
    shipping.start()
    deadline = time.monotonic() + 10
    while not GatewayStep.objects.filter(kind=StepKind.CAPTURE).exists():
        assert time.monotonic() < deadline, "the capture step was never recorded"
        time.sleep(0.02)
    with transaction.atomic():  # another connection: fails at once if the row is locked
        locked = Order.objects.select_for_update(nowait=True).get(pk=order.pk)
        assert locked.status == OrderStatus.READY_TO_SHIP
    assert GatewayStep.objects.get().status == StepStatus.PENDING  # still at the gateway
    shipping.join(timeout=30)
    order.refresh_from_db()
    assert outcome["order"].status == order.status == OrderStatus.SHIPPED


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_ship_clicks_at_once_capture_once(csr, settings):
    from tests.payments.test_concurrency import run_at_once

    settings.ORDERDESK_SANDBOX = {**settings.ORDERDESK_SANDBOX, "latency_ms": 300}
    order = make_order(status="ready_to_ship")
    authorize(order)
    outcomes = run_at_once(2, lambda: order_ship(order=order, actor=csr))
    shipped = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, ShipmentRefused)]
    assert (len(shipped), len(refused)) == (1, 1), outcomes
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert ledger_captures().count() == 1
    assert Capture.objects.count() == 1
    assert GatewayStep.objects.filter(kind=StepKind.CAPTURE).count() == 1
