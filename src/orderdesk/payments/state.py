"""The order's payment state, derived from the payment records.

`payment_state_compute` is the definition; `payment_state_refresh` stores its result on the
order (with the expiry and amount of the current authorization) so the dashboard can read
it from one indexed column. The expiry sweep changes the stored state set-based and must
agree with this function, which a test checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Sum

from orderdesk.common.clock import now
from orderdesk.orders.models import Order, OrderKind, OrderStatus, PaymentMethod, PaymentState
from orderdesk.payments.models import Authorization, AuthorizationStatus, Capture, ExternalPayment

LIVE = (AuthorizationStatus.AUTHORIZED, AuthorizationStatus.PARTIALLY_CAPTURED)
FAILED = (AuthorizationStatus.DECLINED, AuthorizationStatus.ERROR)


@dataclass(frozen=True)
class PaymentSnapshot:
    state: str
    expires_at: datetime | None = None
    authorized_amount: int = 0


def amount_paid(order: Order) -> int:
    captured = Capture.objects.filter(authorization__order=order).aggregate(s=Sum("amount"))["s"]
    external = ExternalPayment.objects.filter(order=order).aggregate(s=Sum("amount"))["s"]
    return (captured or 0) + (external or 0)


def current_authorization(order: Order, at: datetime | None = None) -> Authorization | None:
    """The newest authorization that is still good, if any."""
    moment = at or now()
    return (
        Authorization.objects.filter(order=order, status__in=LIVE, expires_at__gt=moment)
        .order_by("-expires_at", "-id")
        .first()
    )


def has_open_link(order: Order) -> bool:
    from orderdesk.links.models import LinkStatus, PaymentLink

    return PaymentLink.objects.filter(order=order, status=LinkStatus.OPEN).exists()


def payment_state_compute(order: Order, at: datetime | None = None) -> PaymentSnapshot:
    moment = at or now()
    if order.status == OrderStatus.CANCELLED:
        return PaymentSnapshot(PaymentState.VOID)
    if order.payment_method == PaymentMethod.TERMS:
        return PaymentSnapshot(PaymentState.NOT_REQUIRED)
    outstanding = order.total - amount_paid(order)
    if order.total > 0 and outstanding <= 0:
        return PaymentSnapshot(PaymentState.PAID)
    if order.total == 0:
        if order.kind == OrderKind.REPAIR and not has_open_link(order):
            return PaymentSnapshot(PaymentState.AWAITING_PRICE)
        if order.kind == OrderKind.SALE:
            return PaymentSnapshot(PaymentState.NOT_REQUIRED)
    current = current_authorization(order, moment)
    lapsed = None if current else _latest_lapsed(order)
    shown = current or lapsed
    expires_at = shown.expires_at if shown else None
    amount = shown.amount if shown else 0
    if has_open_link(order):
        state = PaymentState.AWAITING_CUSTOMER
    elif _last_attempt_failed(order):
        state = PaymentState.FAILED
    elif current is not None and current.amount >= outstanding:
        state = PaymentState.AUTHORIZED
    elif lapsed is not None:
        state = PaymentState.EXPIRED
    else:
        state = PaymentState.UNAUTHORIZED
    return PaymentSnapshot(state, expires_at, amount)


def _last_attempt_failed(order: Order) -> bool:
    last = (
        Authorization.objects.filter(order=order)
        .exclude(status=AuthorizationStatus.VOIDED)
        .order_by("-created_at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    return last in FAILED


def _latest_lapsed(order: Order) -> Authorization | None:
    """The authorization that lapsed last (status expired, or past expiry before the sweep)."""
    return (
        Authorization.objects.filter(order=order, status__in=(*LIVE, AuthorizationStatus.EXPIRED))
        .order_by("-expires_at", "-id")
        .first()
    )


def payment_state_refresh(order: Order, at: datetime | None = None) -> PaymentSnapshot:
    snapshot = payment_state_compute(order, at)
    Order.objects.filter(pk=order.pk).update(
        payment_state=snapshot.state,
        payment_expires_at=snapshot.expires_at,
        authorized_amount=snapshot.authorized_amount,
    )
    order.payment_state = snapshot.state
    order.payment_expires_at = snapshot.expires_at
    order.authorized_amount = snapshot.authorized_amount
    return snapshot
