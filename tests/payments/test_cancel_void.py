"""Cancelling an order releases its hold on the customer's card: live authorizations are voided."""

import pytest

from orderdesk.common.errors import BusinessRuleError
from orderdesk.orders.models import CancelReason, EventKind, OrderStatus, PaymentState
from orderdesk.payments.models import AuthorizationStatus, GatewayStep, StepStatus
from orderdesk.payments.services import void_steps_deliver
from orderdesk.payments.state import payment_state_compute
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.shipping import order_ship
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db


def test_cancelling_voids_the_live_authorization_at_the_gateway(supervisor):
    order = make_order()
    authorization = authorize(order)
    order_cancel(order=order, actor=supervisor, reason=CancelReason.CUSTOMER_REQUEST)
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.AUTHORIZED  # decided, not yet sent
    assert void_steps_deliver() == {StepStatus.SUCCEEDED: 1}
    order.refresh_from_db()
    authorization.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == CancelReason.CUSTOMER_REQUEST
    assert order.payment_state == PaymentState.VOID
    assert authorization.status == AuthorizationStatus.VOIDED
    ledger = SandboxTransaction.objects.get(reference=authorization.gateway_reference)
    assert ledger.status == "voided"
    void = SandboxTransaction.objects.get(kind="void")
    assert (void.parent_reference, void.status) == (authorization.gateway_reference, "voided")
    voided = order.events.get(kind=EventKind.AUTHORIZATION_VOIDED)
    assert voided.actor == supervisor
    assert voided.message == "Authorization voided: order cancelled"
    assert order.events.filter(kind=EventKind.CANCELLED).count() == 1


def test_cancelling_leaves_failed_authorizations_alone(supervisor):
    order = make_order()
    declined = authorize(order, DECLINE_CARD)
    order_cancel(order=order, actor=supervisor)
    assert void_steps_deliver() == {}
    declined.refresh_from_db()
    assert declined.status == AuthorizationStatus.DECLINED
    assert not GatewayStep.objects.exists()
    assert not SandboxTransaction.objects.filter(kind="void").exists()


def test_a_csr_cannot_cancel(csr):
    from django.core.exceptions import PermissionDenied

    order = make_order()
    authorization = authorize(order)
    with pytest.raises(PermissionDenied):
        order_cancel(order=order, actor=csr)
    order.refresh_from_db()
    authorization.refresh_from_db()
    assert (order.status, authorization.status) == (
        OrderStatus.OPEN,
        AuthorizationStatus.AUTHORIZED,
    )


def test_a_shipped_order_cannot_be_cancelled_and_its_capture_stays(csr, supervisor):
    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    order_ship(order=order, actor=csr)
    with pytest.raises(BusinessRuleError, match="shipped cannot be cancelled"):
        order_cancel(order=order, actor=supervisor)
    order.refresh_from_db()
    authorization.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.PAID)
    assert authorization.status == AuthorizationStatus.CAPTURED
    assert not SandboxTransaction.objects.filter(kind="void").exists()


def test_cancelled_order_payment_state_is_void_when_rebuilt(supervisor):
    order = make_order()
    authorize(order)
    order_cancel(order=order, actor=supervisor)
    order.refresh_from_db()
    assert payment_state_compute(order).state == PaymentState.VOID


def test_a_void_refused_because_the_gateway_captured_the_hold_records_the_capture(supervisor):
    from orderdesk.sandbox import server

    order = make_order()
    authorization = authorize(order)
    # Captured at the gateway (from its console): it cannot be voided any more.
    server.capture(
        reference=authorization.gateway_reference, amount=order.total, idempotency_key="console"
    )
    order_cancel(order=order, actor=supervisor)
    assert void_steps_deliver() == {StepStatus.FAILED: 1}
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.CAPTURED
    assert [capture.amount for capture in authorization.captures.all()] == [order.total]
    assert not order.events.filter(kind=EventKind.AUTHORIZATION_VOIDED).exists()
    note = order.events.filter(kind=EventKind.NOTE).get()
    assert note.message == (
        "The gateway refused to void the authorization: "
        "the gateway shows the authorization captured"
    )
    step = GatewayStep.objects.get()
    assert (step.kind, step.status) == ("void", StepStatus.FAILED)
