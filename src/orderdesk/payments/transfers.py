"""Moving a live authorization to the order that replaces the one it was made for.

A price increase is authorized while the old order is still the customer's order; once the
gateway approved, the replacement order is created and the authorization is recorded on it
here, in the same transaction, so the money always belongs to exactly one live order.
"""

from __future__ import annotations

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.money import format_minor
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, Order
from orderdesk.payments.models import Authorization
from orderdesk.payments.state import LIVE, payment_state_refresh


def authorization_transfer(
    *, authorization: Authorization, to_order: Order, actor=None, actor_label: str = ""
) -> Authorization:
    """Re-point a live authorization to the replacement of its order (inside a transaction)."""
    authorization = lock_one(Authorization.objects, pk=authorization.pk)
    origin = authorization.order
    if authorization.status not in LIVE:
        raise BusinessRuleError(
            f"Only a live authorization can move; this one is {authorization.status}."
        )
    if to_order.supersedes_id != origin.pk or to_order.currency != authorization.currency:
        raise BusinessRuleError("An authorization moves only to the order that replaces its order.")
    authorization.order = to_order
    authorization.save(update_fields=["order", "updated_at"])
    text = f"Authorization of {format_minor(authorization.amount, authorization.currency)}"
    details = {"authorization": authorization.pk, "from": origin.number, "to": to_order.number}
    event_record(
        origin,
        EventKind.NOTE,
        f"{text} moved to order {to_order.number}",
        actor=actor,
        actor_label=actor_label,
        details=details,
    )
    event_record(
        to_order,
        EventKind.AUTHORIZATION_MADE,
        f"{text} carried over from order {origin.number}",
        actor=actor,
        actor_label=actor_label,
        details=details,
    )
    payment_state_refresh(origin)
    payment_state_refresh(to_order)
    return authorization
