"""The order as the CRM sees it: what a sync (`order.created`, `order.updated`) carries.

A sync sends the whole picture as it is when the message is claimed, never a delta that
depends on the CRM having every earlier message; `changed` names the fields that differ
from the last picture delivered, for receivers that act on a kind of change.
"""

from __future__ import annotations

from orderdesk.orders.models import Order

# The fields a receiver may act on, in the payload's order.
WATCHED = (
    "status",
    "cancel_reason",
    "estimated_delivery_date",
    "payment_state",
    "payment_expires_at",
    "authorized_amount",
    "total",
    "supersedes",
    "superseded_by",
)


def order_snapshot(order_id: int) -> dict:
    """The order now, as JSON-ready values (minor units, ISO 8601 dates and times)."""
    order = Order.objects.select_related("account", "supersedes").get(pk=order_id)
    replacement = Order.objects.filter(supersedes=order).values_list("number", flat=True).first()
    expires_at = order.payment_expires_at
    delivery = order.estimated_delivery_date
    return {
        "number": order.number,
        "kind": order.kind,
        "status": order.status,
        "cancel_reason": order.cancel_reason,
        "estimated_delivery_date": delivery.isoformat() if delivery else None,
        "payment_method": order.payment_method,
        "payment_state": order.payment_state,
        "payment_expires_at": expires_at.isoformat() if expires_at else None,
        "authorized_amount": order.authorized_amount,
        "quoted_total": order.quoted_total,
        "total": order.total,
        "currency": order.currency,
        "supersedes": order.supersedes.number if order.supersedes_id else None,
        "superseded_by": replacement,
        "crm_id": order.crm_id,
        "account": {
            "name": order.account.name,
            "email": order.account.ecommerce_email,
            "crm_id": order.account.crm_id,
        },
    }


def snapshot_changes(previous: dict | None, current: dict) -> list[str]:
    """The watched fields that differ from the last delivered picture (all of them first)."""
    if previous is None:
        return list(WATCHED)
    return [field for field in WATCHED if previous.get(field) != current.get(field)]
