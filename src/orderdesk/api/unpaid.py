"""The unpaid panel for the API: the dashboard's selector when it exists, else the same rules here.

Groups in urgency order (DESIGN.md): payment failed, authorization expired, expiring soon,
awaiting customer, not authorized.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, Value, When

from orderdesk.api.selectors import LIVE
from orderdesk.common.clock import now
from orderdesk.orders.models import Order, PaymentState

GROUPS = ["failed", "expired", "expiring_soon", "awaiting_customer", "not_authorized"]
ROW_LIMIT = 200


def _expiring_soon(moment: datetime) -> Q:
    window_end = moment + timedelta(days=settings.ORDERDESK_WARNING_DAYS)
    # Or before the estimated delivery date (its start, UTC): it will lapse before shipping.
    return Q(payment_state=PaymentState.AUTHORIZED) & (
        Q(payment_expires_at__lt=window_end)
        | Q(
            estimated_delivery_date__isnull=False,
            payment_expires_at__lt=F("estimated_delivery_date"),
        )
    )


def unpaid_panel_rows(*, limit: int = ROW_LIMIT) -> dict:
    moment = now()
    orders = Order.objects.filter(LIVE)
    group = Case(
        When(payment_state=PaymentState.FAILED, then=Value(0)),
        When(payment_state=PaymentState.EXPIRED, then=Value(1)),
        When(_expiring_soon(moment), then=Value(2)),
        When(payment_state=PaymentState.AWAITING_CUSTOMER, then=Value(3)),
        When(
            payment_state__in=[PaymentState.UNAUTHORIZED, PaymentState.AWAITING_PRICE],
            then=Value(4),
        ),
        default=Value(None),
        output_field=IntegerField(),
    )
    unpaid = orders.annotate(urgency=group).filter(urgency__isnull=False)
    counts = dict.fromkeys(GROUPS, 0)
    for row in unpaid.values("urgency").annotate(n=Count("id")).order_by():
        counts[GROUPS[row["urgency"]]] = row["n"]
    rows = unpaid.select_related("account", "assigned_to").order_by(
        "urgency", F("payment_expires_at").asc(nulls_last=True), "created_at", "id"
    )[:limit]
    return {"groups": GROUPS, "counts": counts, "rows": [_row(order) for order in rows]}


def _row(order: Order) -> dict:
    assignee = order.assigned_to
    return {
        "group": GROUPS[order.urgency],
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
        "assigned_to": (assignee.get_full_name() or assignee.get_username()) if assignee else None,
    }


def unpaid_panel() -> dict:
    return unpaid_panel_rows()
