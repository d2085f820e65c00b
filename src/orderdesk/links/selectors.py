"""Read-side queries of payment links: by token for the customer, by order for staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import connection
from django.utils.timezone import localdate

from orderdesk.common.clock import now
from orderdesk.common.rows import row_instance
from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.links.tokens import token_hash, token_well_formed
from orderdesk.orders.models import Order, OrderStatus, PaymentMethod, PaymentState
from orderdesk.payments.state import CustomerLinkFacts

# A re-trigger within this window of the last one asks the CSR to confirm.
RETRIGGER_CONFIRM_WINDOW = timedelta(minutes=10)


def link_by_token(token: str, *, for_checkout: bool = False) -> PaymentLink | None:
    """The link of a token, whatever its status (None for an unknown or malformed token).
    `for_checkout`: the link and only its order's number (for the gateway), because paying
    reads the order again under its lock; building the whole order and account for nothing
    cost an approval more than its own statements did."""
    if not token_well_formed(token):
        return None
    if for_checkout:
        return _link_for_checkout(token_hash(token))
    return (
        PaymentLink.objects.select_related("order", "order__account")
        .filter(token_hash=token_hash(token))
        .first()
    )


def _link_for_checkout(digest: str) -> PaymentLink | None:
    """The link, and its order with only its number loaded (the other columns deferred, as
    `.only()` would leave them)."""
    with connection.cursor() as cursor:
        cursor.execute(_checkout_link_sql(connection.ops.quote_name), [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    *columns, number = row
    link = row_instance(PaymentLink, PaymentLink._meta.concrete_fields, columns)
    link.order = Order.from_db(connection.alias, ["id", "number"], [link.order_id, number])
    return link


@cache
def _checkout_link_sql(quote) -> str:
    # Raw SQL: compiling this one statement through the ORM cost more than running it and
    # the rest of the customer's request put together (the token is unique: one row).
    links, orders = quote(PaymentLink._meta.db_table), quote(Order._meta.db_table)
    columns = ", ".join(f"l.{quote(field.column)}" for field in PaymentLink._meta.concrete_fields)
    return (
        f"SELECT {columns}, o.{quote('number')} AS {quote('number')} FROM {links} l "  # noqa: S608 (tables from models)
        f"INNER JOIN {orders} o ON l.{quote('order_id')} = o.{quote('id')} "
        f"WHERE l.{quote('token_hash')} = %s"
    )


def link_is_usable(link: PaymentLink | None) -> bool:
    return link is not None and link.status == LinkStatus.OPEN and now() < link.expires_at


def link_open_for_order(order: Order) -> PaymentLink | None:
    return PaymentLink.objects.filter(order=order, status=LinkStatus.OPEN).first()


def customer_link_facts(order: Order) -> CustomerLinkFacts:
    """What the payment state needs of the order's links, read from its newest link: a new
    link revokes any open one, so an open link is always the newest."""
    newest = PaymentLink.objects.filter(order=order).order_by("-id").first()
    if newest is None:
        return CustomerLinkFacts()
    declined = newest.status == LinkStatus.DECLINED
    return CustomerLinkFacts(
        open=newest.status == LinkStatus.OPEN,
        declined_at=newest.completed_at if declined else None,
    )


def link_declined_for_order(order: Order) -> PaymentLink | None:
    """The price increase the customer declined, while the order still waits on it: the
    link facts on the order say the newest link was declined, and the payment state (see
    payments.state.price_increase_declined) that nothing has been tried since."""
    if order.price_declined_at is None or order.payment_state != PaymentState.AWAITING_PRICE:
        return None
    return PaymentLink.objects.filter(order=order).order_by("-id").first()


def link_recent_reauthorization(order: Order) -> PaymentLink | None:
    """A re-trigger sent within the confirmation window, if any."""
    return (
        PaymentLink.objects.filter(
            order=order,
            purpose=LinkPurpose.REAUTHORIZATION,
            created_at__gt=now() - RETRIGGER_CONFIRM_WINDOW,
        )
        .order_by("-created_at")
        .first()
    )


def link_expiry_from(moment):
    return moment + timedelta(days=settings.ORDERDESK_LINK_DAYS)


@dataclass(frozen=True)
class ActionAvailability:
    allowed: bool
    reason: str = ""


def reauthorization_availability(order: Order, *, paid: int | None = None) -> ActionAvailability:
    """Re-trigger makes sense for a live card or PayPal order that owes money and has a price.
    `paid`, when the caller has read the amount paid already (the order screen), saves
    reading it again."""
    from orderdesk.payments.state import amount_paid

    if not order.is_live:
        return ActionAvailability(False, f"The order is {order.get_status_display().lower()}.")
    if order.payment_method not in (PaymentMethod.CARD, PaymentMethod.PAYPAL):
        return ActionAvailability(False, "Only card and PayPal orders are authorized.")
    # A priced order awaiting a price (its customer declined an increase) may be re-triggered
    # at its current price, if that is what the customer and the CSR agree on.
    if order.total == 0:
        return ActionAvailability(False, "The order has no price yet: send a price increase.")
    if order.total - (amount_paid(order) if paid is None else paid) <= 0:
        return ActionAvailability(False, "The order owes nothing.")
    return ActionAvailability(True)


def price_increase_availability(order: Order, *, paid: int | None = None) -> ActionAvailability:
    """A new cart for a live card or PayPal order of which nothing is paid yet (`paid` as in
    `reauthorization_availability`)."""
    from orderdesk.payments.state import amount_paid

    if not order.is_live:
        return ActionAvailability(False, f"The order is {order.get_status_display().lower()}.")
    if order.payment_method not in (PaymentMethod.CARD, PaymentMethod.PAYPAL):
        return ActionAvailability(False, "Only card and PayPal orders go through a new cart.")
    if order.status == OrderStatus.SHIPPED:
        return ActionAvailability(False, "Part of the order is paid already.")
    if (amount_paid(order) if paid is None else paid) > 0:
        return ActionAvailability(False, "Part of the order is paid already.")
    return ActionAvailability(True)


def _reason(link: PaymentLink) -> str:
    order = link.order
    if link.purpose == LinkPurpose.PRICE_INCREASE:
        if order.is_zero_dollar_quote:
            return "We have diagnosed your repair and priced the work. Please approve the price so that we can go ahead."
        return "Your order needs more work than we quoted. Please review the new price; nothing changes unless you approve it."
    expires_at = order.payment_expires_at
    if expires_at is None:
        return "We have not been able to secure the payment for this order yet."
    if expires_at <= now():
        return (
            f"The payment authorization for this order expired on {localdate(expires_at):%B %d, %Y} "
            "before your order was ready. Please approve the payment again; nothing is charged until it ships."
        )
    return (
        f"The payment authorization for this order expires on {localdate(expires_at):%B %d, %Y}, "
        "before your order will be ready. Please approve the payment again; nothing is charged until it ships."
    )


def link_summary(link: PaymentLink) -> dict:
    """What the customer's page and e-mail show: the order, the amounts, why and what next."""
    order = link.order
    current_lines = [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": line.amount,
        }
        for line in order.lines.all()
    ]
    proposed_lines = [
        {**line, "amount": line["quantity"] * line["unit_price"]} for line in link.proposed_lines
    ]
    return {
        "order_number": order.number,
        "order_kind": order.get_kind_display().lower(),
        "account_name": order.account.name,
        "currency": link.currency,
        "amount": link.amount,
        "is_price_increase": link.purpose == LinkPurpose.PRICE_INCREASE,
        "current_lines": current_lines,
        "current_total": order.total,
        "proposed_lines": proposed_lines,
        "proposed_total": link.proposed_total,
        "estimated_delivery_date": order.estimated_delivery_date,
        "link_expires_on": localdate(link.expires_at),
        "reason": _reason(link),
    }


def links_for_order(order: Order, *, limit: int = 100):
    """The order's payment links, newest first (never their tokens, which are not kept)."""
    return PaymentLink.objects.filter(order=order).order_by("-created_at", "-id")[:limit]
