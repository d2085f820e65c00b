"""An order comes in: created from a quote, with the payment state it starts in."""

from __future__ import annotations

from django.db import transaction

from orderdesk.orders.models import Order
from orderdesk.orders.services import delivery_date_check, order_create
from orderdesk.payments.state import payment_state_refresh


@transaction.atomic
def order_open(**order_fields) -> Order:
    """Create the order (`orders.services.order_create` takes the same arguments) and
    store its first payment state: awaiting a price, not authorized, or not required."""
    delivery_date_check(order_fields.get("estimated_delivery_date"))
    order = order_create(**order_fields)
    payment_state_refresh(order)
    return order
