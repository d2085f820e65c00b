"""The unpaid panel for the API: the dashboard's selector, in the API's terms. Groups in
urgency order (DESIGN.md): payment failed, authorization expired, expiring soon, awaiting
customer, not authorized.
"""

from __future__ import annotations

from orderdesk.common.people import display_name
from orderdesk.orders.models import Order
from orderdesk.unpaid.rows import unpaid_panel as dashboard_panel


def unpaid_panel(
    *, user, group: str | None, kind: str | None, mine: bool, page: int, per_page: int
) -> dict:
    """The dashboard's panel, so that the API and the screen always agree on the groups."""
    panel = dashboard_panel(
        user=user, group=group, kind=kind, mine=mine, page=page, per_page=per_page
    )
    keys = [entry.key for entry in panel.groups]
    return {
        "groups": keys,
        "counts": panel.counts,
        "total": panel.total,
        "page": panel.page,
        "pages": panel.pages,
        "rows": [_row(order, keys[order.urgency]) for order in panel.rows],
    }


def _row(order: Order, group: str) -> dict:
    assignee = order.assigned_to
    return {
        "group": group,
        "number": order.number,
        "account": order.account.name,
        "kind": order.kind,
        "total": order.total,
        "currency": order.currency,
        "authorized_amount": order.authorized_amount,
        "payment_state": order.payment_state,
        "expires_at": order.payment_expires_at,
        "estimated_delivery_date": order.estimated_delivery_date,
        "last_action": order.last_action,
        "assigned_to": display_name(assignee) or None,
    }
