"""Replacing an order by a new one (a price increase the customer approved).

The new order takes the old number plus `-1` (a replacement of `100234-1` is `100234-2`),
the old order's work status, estimated delivery date, assignee and notes, and points at
the old one (`supersedes`). The old order is cancelled with the reason `replaced`. The
caller owns the transaction and the gateway work (authorizing the new amount before,
voiding the old authorization after commit).
"""

from __future__ import annotations

import re

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.orders.events import event_record
from orderdesk.orders.models import CancelReason, EventKind, Order, OrderStatus
from orderdesk.orders.services import LineInput, order_transition
from orderdesk.orders.statuses import ORDER_STATUS_MACHINE
from orderdesk.payments.state import payment_state_refresh
from orderdesk.workflows.intake import order_open


def replacement_number(original: Order) -> str:
    """`<root number>-<n>` with n one more than any replacement of the same root so far."""
    root = original
    while root.supersedes_id:
        root = root.supersedes
    pattern = re.compile(rf"^{re.escape(root.number)}-(\d+)$")
    taken = Order.objects.filter(number__startswith=f"{root.number}-").values_list(
        "number", flat=True
    )
    suffixes = [int(match.group(1)) for number in taken if (match := pattern.match(number))]
    return f"{root.number}-{max(suffixes, default=0) + 1}"


def order_replace(
    *, original: Order, lines: list[LineInput], actor=None, actor_label: str = ""
) -> Order:
    """Create the replacement and cancel the original (call inside a transaction)."""
    original = lock_one(Order.objects.select_related("account"), pk=original.pk)
    if not ORDER_STATUS_MACHINE.allowed(original.status, OrderStatus.CANCELLED):
        raise BusinessRuleError(
            f"Order {original.number} is {original.get_status_display().lower()}; it cannot be replaced."
        )
    replacement = order_open(
        account=original.account,
        kind=original.kind,
        payment_method=original.payment_method,
        lines=lines,
        currency=original.currency,
        number=replacement_number(original),
        estimated_delivery_date=original.estimated_delivery_date,
        actor=actor,
    )
    Order.objects.filter(pk=replacement.pk).update(
        supersedes=original, assigned_to=original.assigned_to_id
    )
    replacement.supersedes, replacement.assigned_to_id = original, original.assigned_to_id
    if original.status != OrderStatus.OPEN:
        order_transition(replacement, original.status, actor=actor, reason="as the replaced order")
    _notes_copy(original, replacement)
    who = {"actor": actor, "actor_label": actor_label}
    event_record(
        replacement,
        EventKind.REPLACED,
        f"Replaces order {original.number}",
        details={"replaces": original.number},
        **who,
    )
    _original_cancel(original, replacement, **who)
    return replacement


def _original_cancel(original: Order, replacement: Order, *, actor, actor_label: str) -> None:
    original.cancel_reason = CancelReason.REPLACED
    order_transition(
        original, OrderStatus.CANCELLED, actor=actor, reason=f"replaced by {replacement.number}"
    )
    event_record(
        original,
        EventKind.REPLACED,
        f"Replaced by order {replacement.number}",
        actor=actor,
        actor_label=actor_label,
        details={"replaced_by": replacement.number},
    )
    payment_state_refresh(original)


def _notes_copy(original: Order, replacement: Order) -> None:
    for note in original.events.filter(kind=EventKind.NOTE).order_by("created_at", "id"):
        event_record(
            replacement,
            EventKind.NOTE,
            f"(from {original.number}) {note.message}",
            actor=note.actor,
            actor_label=note.actor_label,
            details={"copied_from": original.number, "event": note.pk},
        )
