"""What the order screen offers a given person: each action only to those allowed, when it makes sense.

This decides what is shown; the views and services enforce the same permissions again.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderdesk.orders.models import Order, OrderStatus, PaymentMethod
from orderdesk.orders.statuses import ORDER_STATUS_MACHINE
from orderdesk.payments.selectors import PaymentSecurity

WORK_STATUSES = (OrderStatus.OPEN, OrderStatus.IN_PROGRESS, OrderStatus.READY_TO_SHIP)


@dataclass(frozen=True)
class OrderActions:
    assign_to_me: bool
    set_delivery_date: bool
    status_targets: list[tuple[str, str]]
    add_note: bool
    process_card: bool
    record_external_payment: bool
    ship: bool
    override_ship_gate: bool
    cancel: bool

    @property
    def any_payment_action(self) -> bool:
        return self.process_card or self.record_external_payment


def order_actions(order: Order, *, user, security: PaymentSecurity) -> OrderActions:
    live = order.is_live
    works = live and user.has_perm("orders.work_order")
    needs_payment = (
        live and not security.secured and order.payment_method != PaymentMethod.TERMS
    ) and order.total > 0
    ready = order.status == OrderStatus.READY_TO_SHIP
    targets = [
        (status.value, status.label)
        for status in WORK_STATUSES
        if ORDER_STATUS_MACHINE.allowed(order.status, status)
    ]
    return OrderActions(
        assign_to_me=works and order.assigned_to_id != user.pk,
        set_delivery_date=works,
        status_targets=targets if works else [],
        add_note=user.has_perm("orders.work_order"),
        process_card=needs_payment and user.has_perm("orders.process_card"),
        record_external_payment=needs_payment and user.has_perm("orders.record_external_payment"),
        ship=ready and user.has_perm("orders.ship_order"),
        override_ship_gate=ready
        and not security.secured
        and user.has_perm("orders.ship_order")
        and user.has_perm("orders.override_ship_gate"),
        cancel=live and user.has_perm("orders.cancel_order"),
    )
