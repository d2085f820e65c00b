"""The unpaid panel for the API: the dashboard's selector when it is installed, else the same
rules here. Groups in urgency order (DESIGN.md): payment failed, authorization expired,
expiring soon, awaiting customer, not authorized.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, Value, When

from orderdesk.api.selectors import LIVE
from orderdesk.common.clock import now
from orderdesk.orders.models import Order, PaymentState

GROUPS = ["failed", "expired", "expiring", "awaiting_customer", "not_authorized"]


def unpaid_panel(
    *, user, group: str | None, kind: str | None, mine: bool, page: int, per_page: int
) -> dict:
    try:
        from orderdesk.dashboard.selectors import unpaid_panel as dashboard_panel
    except ImportError:
        dashboard_panel = None
    if dashboard_panel is None:
        return _panel_here(
            user=user, group=group, kind=kind, mine=mine, page=page, per_page=per_page
        )
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


def _conditions(moment: datetime) -> list[Q]:
    window_end = moment + timedelta(days=settings.ORDERDESK_WARNING_DAYS)
    expiring = Q(payment_state=PaymentState.AUTHORIZED) & (
        Q(payment_expires_at__lt=window_end)
        # Or it lapses before the estimated delivery date (the start of that day, UTC).
        | Q(
            estimated_delivery_date__isnull=False,
            payment_expires_at__lt=F("estimated_delivery_date"),
        )
    )
    return [
        Q(payment_state=PaymentState.FAILED),
        Q(payment_state=PaymentState.EXPIRED),
        expiring,
        Q(payment_state=PaymentState.AWAITING_CUSTOMER),
        Q(payment_state__in=[PaymentState.UNAUTHORIZED, PaymentState.AWAITING_PRICE]),
    ]


def _panel_here(*, user, group, kind, mine, page, per_page) -> dict:
    conditions = _conditions(now())
    orders = Order.objects.filter(LIVE)
    if kind:
        orders = orders.filter(kind=kind)
    if mine:
        orders = orders.filter(assigned_to=user)
    totals = orders.aggregate(
        **{
            key: Count("pk", filter=condition)
            for key, condition in zip(GROUPS, conditions, strict=True)
        }
    )
    counts = {key: totals[key] or 0 for key in GROUPS}
    urgency = Case(
        *(When(condition, then=Value(rank)) for rank, condition in enumerate(conditions)),
        default=Value(None),
        output_field=IntegerField(),
    )
    rows = orders.annotate(urgency=urgency).filter(urgency__isnull=False)
    if group in GROUPS:
        rows = rows.filter(urgency=GROUPS.index(group))
    total = counts[group] if group in GROUPS else sum(counts.values())
    pages = max(1, math.ceil(total / per_page))
    page = min(page, pages)
    rows = rows.select_related("account", "assigned_to").order_by(
        "urgency", F("payment_expires_at").asc(nulls_last=True), "id"
    )[(page - 1) * per_page : page * per_page]
    return {
        "groups": GROUPS,
        "counts": counts,
        "total": total,
        "page": page,
        "pages": pages,
        "rows": [_row(order, GROUPS[order.urgency]) for order in rows],
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
        "assigned_to": (assignee.get_full_name() or assignee.get_username()) if assignee else None,
    }
