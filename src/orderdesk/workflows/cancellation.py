"""Cancelling an order: its live authorizations are released at the gateway."""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.permissions import require
from orderdesk.orders.events import event_record
from orderdesk.orders.models import CancelReason, EventKind, Order, OrderStatus
from orderdesk.orders.services import order_transition
from orderdesk.orders.statuses import ORDER_STATUS_MACHINE
from orderdesk.payments.services import authorizations_void_all, capture_in_flight
from orderdesk.payments.state import payment_state_refresh


def order_cancel(*, order: Order, actor, reason: str = CancelReason.OTHER, note: str = "") -> Order:
    """Cancel, and have the order's live authorizations voided at the gateway."""
    require(actor, "orders.cancel_order")
    with transaction.atomic():
        order = lock_one(Order.objects, pk=order.pk)
        if not ORDER_STATUS_MACHINE.allowed(order.status, OrderStatus.CANCELLED):
            raise BusinessRuleError(
                f"An order that is {order.get_status_display().lower()} cannot be cancelled."
            )
        if capture_in_flight(order):
            # Its answer decides whether the money was taken: cancel once it is settled.
            raise BusinessRuleError(
                "A capture for this order is being confirmed with the gateway; "
                "cancel it once the capture is settled."
            )
        order.cancel_reason = reason
        text = note or CancelReason(reason).label
        order_transition(order, OrderStatus.CANCELLED, actor=actor, reason=text)
        event_record(order, EventKind.CANCELLED, f"Cancelled: {text}", actor=actor)
        # Decided here, delivered by the worker once this commits (retried until confirmed).
        authorizations_void_all(order, actor=actor, reason="order cancelled")
        payment_state_refresh(order)
    return order
