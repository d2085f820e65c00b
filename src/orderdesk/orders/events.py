"""Writing the order timeline. Every service that changes an order records one row here."""

from __future__ import annotations

from orderdesk.common.clock import now
from orderdesk.common.inserts import row_insert
from orderdesk.common.updates import row_update
from orderdesk.orders.models import EventKind, Order, OrderEvent

LAST_ACTION_FIELDS = ("last_action", "last_action_at")


def event_record(
    order: Order,
    kind: str,
    message: str = "",
    *,
    actor=None,
    actor_label: str = "",
    details: dict | None = None,
    defer_last_action: bool = False,
) -> OrderEvent:
    """Append a row to the order's timeline and make it the order's last action.

    With `defer_last_action` the last action is only set on the instance: the caller writes
    it in the same transaction with the order's other columns (see `LAST_ACTION_FIELDS`),
    so that a service recording several rows updates the order once.
    """
    moment = now()
    text = message or EventKind(kind).label
    event = OrderEvent(
        order=order,
        kind=kind,
        message=text[:500],
        details=details or {},
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label or ("" if getattr(actor, "pk", None) else "system"),
        created_at=moment,
    )
    row_insert(event)
    # The dashboard shows the last action without reading the timeline.
    order.last_action, order.last_action_at = text[:200], moment
    if not defer_last_action:
        row_update(Order, order.pk, {"last_action": text[:200], "last_action_at": moment})
    return event
