"""Shipping: nothing ships without secured payment; the charge is captured at shipment."""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.permissions import require
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, Order, OrderStatus
from orderdesk.orders.services import order_transition
from orderdesk.orders.statuses import ORDER_STATUS_MACHINE
from orderdesk.payments.errors import CaptureFailed
from orderdesk.payments.selectors import payment_security
from orderdesk.payments.services import authorization_capture
from orderdesk.payments.state import payment_state_refresh


class ShipmentRefused(BusinessRuleError):
    """Nothing ships without secured payment."""


def order_ship(*, order: Order, actor, override_reason: str = "") -> Order:
    """Ship: capture at shipment; refuse unless payment is secured, or a supervisor overrides.

    A refusal changes nothing but the timeline, which records it.
    """
    require(actor, "orders.ship_order")
    try:
        with transaction.atomic():
            return _order_ship_locked(order, actor=actor, override_reason=override_reason)
    except ShipmentRefused as refusal:
        order_ship_refusal_record(order=order, actor=actor, reason=refusal.reason)
        raise


def _order_ship_locked(order: Order, *, actor, override_reason: str) -> Order:
    order = lock_one(Order.objects, pk=order.pk)
    if not ORDER_STATUS_MACHINE.allowed(order.status, OrderStatus.SHIPPED):
        raise ShipmentRefused(
            f"Only an order that is ready to ship can ship; this one is {order.get_status_display().lower()}."
        )
    security = payment_security(order)
    if security.capturable:
        try:
            authorization_capture(order=order, actor=actor)
        except CaptureFailed as error:
            security = security.refused(error.reason)
    if not security.secured:
        _ship_override_check(
            order, actor=actor, reason=security.reason, override_reason=override_reason
        )
    order_transition(order, OrderStatus.SHIPPED, actor=actor)
    event_record(order, EventKind.SHIPPED, "Shipped", actor=actor)
    payment_state_refresh(order)
    return order


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
