"""Shipping: nothing ships without secured payment; the charge is captured at shipment.

The capture is a step of its own, outside the order's lock: under the lock the gate is
checked and the capture recorded; the gateway is called after commit; its answer is
recorded under the lock again by `order_ship_settle`, which ships the order when the money
is captured. A capture whose answer never came is settled by `shipments_reconcile` with
the same function, from the gateway's record of the hold. Until then the order stays
ready to ship and a second ship click is refused: never two captures.
"""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.permissions import require
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order, OrderStatus
from orderdesk.orders.services import order_transition
from orderdesk.orders.statuses import ORDER_STATUS_MACHINE
from orderdesk.payments.errors import CaptureFailed
from orderdesk.payments.gateways.base import GatewayResult
from orderdesk.payments.models import STEP_OPEN, AuthorizationStatus, StepKind
from orderdesk.payments.selectors import payment_security
from orderdesk.payments.services import (
    authorization_void,
    capture_in_flight,
    capture_step_begin,
    capture_step_call,
    capture_step_record,
    hold_fetch,
    step_lock,
    steps_reconcile,
)
from orderdesk.payments.state import payment_state_refresh


class ShipmentRefused(BusinessRuleError):
    """Nothing ships without secured payment."""


def order_ship(*, order: Order, actor, override_reason: str = "") -> Order:
    """Ship: capture at shipment; refuse unless payment is secured, or a supervisor overrides.

    A refusal changes nothing but the timeline, which records it. When the gateway does not
    answer the capture in time, the order is returned still ready to ship: it ships when
    reconciliation confirms the capture.
    """
    require(actor, "orders.ship_order")
    try:
        with transaction.atomic():
            order, step = _order_ship_begin(order, actor=actor, override_reason=override_reason)
    except ShipmentRefused as refusal:
        order_ship_refusal_record(order=order, actor=actor, reason=refusal.reason)
        raise
    if step is None:
        return order  # shipped in that transaction: nothing to capture
    result = capture_step_call(step)  # outside any transaction and lock
    if result is None:
        return Order.objects.get(pk=order.pk)  # being confirmed with the gateway
    order, refusal = order_ship_settle(step.pk, result, actor=actor)
    if refusal and override_reason.strip():
        return _order_ship_overridden(order, actor=actor, gate=refusal, reason=override_reason)
    if refusal:
        raise ShipmentRefused(f"Payment is not secured: {refusal}")
    return order


def _order_ship_begin(order: Order, *, actor, override_reason: str):
    """Under the order's lock: the gate, then either a capture step recorded (returned, for
    the call after commit) or the shipment made at once (nothing to capture, an override)."""
    order = lock_one(Order.objects, pk=order.pk)
    _shippable_check(order)
    security = payment_security(order)
    if security.capturable:
        try:
            return order, capture_step_begin(order=order, actor=actor)
        except CaptureFailed as error:
            security = security.refused(error.reason)
    if not security.secured:
        _ship_override_check(
            order, actor=actor, reason=security.reason, override_reason=override_reason
        )
    _ship_finish(order, actor=actor)
    return order, None


def _shippable_check(order: Order) -> None:
    if not ORDER_STATUS_MACHINE.allowed(order.status, OrderStatus.SHIPPED):
        raise ShipmentRefused(
            f"Only an order that is ready to ship can ship; this one is {order.get_status_display().lower()}."
        )
    if capture_in_flight(order):
        raise ShipmentRefused(
            "The capture for this order is being confirmed with the gateway; "
            "it ships once the capture is settled."
        )


def _ship_finish(order: Order, *, actor) -> None:
    order_transition(order, OrderStatus.SHIPPED, actor=actor)
    event_record(order, EventKind.SHIPPED, "Shipped", actor=actor, defer_last_action=True)
    _holds_left_release(order, actor=actor)
    payment_state_refresh(order, also=LAST_ACTION_FIELDS)


def _holds_left_release(order: Order, *, actor) -> None:
    """A shipped order keeps no hold on the customer's card: whatever the shipment did not
    capture is released (a customer's new hold answered while the capture was at the
    gateway; the hold of an order a supervisor shipped past a refused capture)."""
    for authorization in order.authorizations.filter(status=AuthorizationStatus.AUTHORIZED):
        authorization_void(authorization, actor=actor, reason="the order has shipped")


@transaction.atomic
def order_ship_settle(step_id: int, result: GatewayResult, *, actor=None) -> tuple[Order, str]:
    """Record a shipment's capture answer, in time or through reconciliation: captured, the
    order ships; refused, the refusal is on the timeline and the order stays as it was.
    Returns the order and the refusal ("" when captured or settled already)."""
    step, authorization = step_lock(step_id)
    order = step.order
    if step.status not in STEP_OPEN:
        return order, ""  # settled already (the request, or a concurrent reconciliation)
    actor = actor or step.created_by
    if not capture_step_record(step, authorization, result, actor=actor):
        reason = f"Payment is not secured: {step.last_error}"
        event_record(order, EventKind.SHIP_REFUSED, f"Shipment refused: {reason}", actor=actor)
        payment_state_refresh(order)
        return order, step.last_error
    if ORDER_STATUS_MACHINE.allowed(order.status, OrderStatus.SHIPPED):
        _ship_finish(order, actor=actor)
    else:  # moved back while the capture was at the gateway: the money is still captured
        event_record(order, EventKind.NOTE, "Captured for shipment; the order was not shipped")
        payment_state_refresh(order)
    return order, ""


def shipments_reconcile() -> int:
    """Settle every shipment whose capture answer never came (timeout, killed process) from
    the gateway's record of the hold (the worker's schedule runs this). Returns how many."""
    return steps_reconcile(
        StepKind.CAPTURE, lambda step: order_ship_settle(step.pk, hold_fetch(step))
    )


def _order_ship_overridden(order: Order, *, actor, gate: str, reason: str) -> Order:
    """The capture was refused and a supervisor ships anyway, with a reason."""
    try:
        with transaction.atomic():
            order = lock_one(Order.objects, pk=order.pk)
            _shippable_check(order)
            _ship_override_check(order, actor=actor, reason=gate, override_reason=reason)
            _ship_finish(order, actor=actor)
            return order
    except ShipmentRefused as refusal:
        order_ship_refusal_record(order=order, actor=actor, reason=refusal.reason)
        raise


def _ship_override_check(order: Order, *, actor, reason: str, override_reason: str) -> None:
    if not override_reason.strip():
        raise ShipmentRefused(f"Payment is not secured: {reason}")
    require(actor, "orders.override_ship_gate")
    event_record(
        order,
        EventKind.OVERRIDDEN,
        f"Ship gate overridden: {override_reason.strip()} (payment: {reason})",
        actor=actor,
        details={"reason": override_reason.strip(), "gate": reason},
    )


@transaction.atomic
def order_ship_refusal_record(*, order: Order, actor, reason: str) -> None:
    """Keep a refused shipment on the timeline (the refusing transaction rolled back)."""
    event_record(order, EventKind.SHIP_REFUSED, f"Shipment refused: {reason}", actor=actor)
