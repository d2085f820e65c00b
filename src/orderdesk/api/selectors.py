"""Read-side queries of the API: order lists and order detail, in a bounded number of queries."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from orderdesk.common.clock import now
from orderdesk.common.people import display_name
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.payments.selectors import order_payments
from orderdesk.unpaid.groups import unpaid_condition

TIMELINE_LIMIT = 500


def orders_filter(
    *, payment_state: str | None, status: str | None, unpaid: bool | None, search: str | None
) -> QuerySet[Order]:
    orders = Order.objects.select_related("account", "assigned_to").order_by("-created_at", "-id")
    if payment_state:
        orders = orders.filter(payment_state=payment_state)
    if status:
        orders = orders.filter(status=status)
    if unpaid:
        orders = orders.filter(unpaid_condition(now()))
    if search:
        term = search.strip()
        orders = orders.filter(
            Q(number__istartswith=term)
            | Q(account__name__icontains=term)
            | Q(account__ecommerce_email__iexact=term)
        )
    return orders


def order_summary(order: Order) -> dict:
    return {
        "number": order.number,
        "account": {
            "name": order.account.name,
            "email": order.account.ecommerce_email,
            "phone": order.account.phone,
        },
        "kind": order.kind,
        "status": order.status,
        "payment_method": order.payment_method,
        "currency": order.currency,
        "quoted_total": order.quoted_total,
        "total": order.total,
        "authorized_amount": order.authorized_amount,
        "payment_state": order.payment_state,
        "payment_expires_at": order.payment_expires_at,
        "estimated_delivery_date": order.estimated_delivery_date,
        "assigned_to": display_name(order.assigned_to) or None,
        "last_action": order.last_action,
        "created_at": order.created_at,
    }


def order_get(number: str) -> Order:
    """The order with this number (raises Order.DoesNotExist)."""
    return Order.objects.select_related("account", "assigned_to", "supersedes").get(number=number)


# The fields of each record that the API shows, in the order the schema lists them.
LINE_FIELDS = ("sku", "description", "quantity", "unit_price", "amount")
AUTHORIZATION_FIELDS = (
    "gateway",
    "method",
    "status",
    "amount",
    "currency",
    "authorized_at",
    "expires_at",
    "instrument",
    "decline_code",
    "message",
    "source",
    "created_at",
)
CAPTURE_FIELDS = ("amount", "currency", "gateway_reference", "captured_at")
EXTERNAL_PAYMENT_FIELDS = ("amount", "currency", "reference", "reason", "recorded_at")
EVENT_FIELDS = ("kind", "message", "who", "created_at")


def _fields(records, names: tuple[str, ...], **computed) -> list[dict]:
    return [
        {
            **{name: getattr(record, name) for name in names},
            **{k: f(record) for k, f in computed.items()},
        }
        for record in records
    ]


def order_detail(order: Order) -> dict:
    payments = order_payments(order)
    successor = Order.objects.filter(supersedes=order).values_list("number", flat=True).first()
    events = OrderEvent.objects.filter(order=order).select_related("actor")[:TIMELINE_LIMIT]
    recorded_by = {"recorded_by": lambda payment: display_name(payment.recorded_by)}
    return {
        **order_summary(order),
        "cancel_reason": order.cancel_reason,
        "amount_paid": payments["paid"],
        "lines": _fields(order.lines.all(), LINE_FIELDS),
        "authorizations": _fields(payments["authorizations"], AUTHORIZATION_FIELDS),
        "captures": _fields(payments["captures"], CAPTURE_FIELDS),
        "external_payments": _fields(
            payments["external_payments"], EXTERNAL_PAYMENT_FIELDS, **recorded_by
        ),
        "supersedes": order.supersedes.number if order.supersedes_id else None,
        "superseded_by": successor,
        "timeline": _fields(events, EVENT_FIELDS),
    }
