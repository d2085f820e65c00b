"""Read-side questions about an order's payments."""

from __future__ import annotations

from dataclasses import dataclass, replace

from orderdesk.common.clock import now
from orderdesk.common.money import format_minor
from orderdesk.orders.models import Order, PaymentMethod
from orderdesk.payments.models import (
    STEP_OPEN,
    Authorization,
    Capture,
    ExternalPayment,
    GatewayStep,
)
from orderdesk.payments.state import amount_paid, current_authorization


@dataclass(frozen=True)
class PaymentSecurity:
    """Rule 7: nothing ships without a valid covering authorization, a capture or a recorded payment."""

    secured: bool
    capturable: bool
    reason: str
    # The amount paid (captures and recorded payments), read once here so the order screen's
    # other questions (re-trigger, price increase, the card terminal) need not read it again;
    # None for an order on terms, which never reads it.
    paid: int | None = None

    def refused(self, reason: str) -> PaymentSecurity:
        return replace(self, secured=False, capturable=False, reason=reason)


def payment_security(
    order: Order,
    at=None,
    *,
    authorizations: list[Authorization] | None = None,
    paid: int | None = None,
) -> PaymentSecurity:
    """`authorizations`, every authorization of the order, and `paid`, the amount paid, when
    the caller has read them already (the order screen lists them), answer without reading
    them again."""
    moment = at or now()
    if order.payment_method == PaymentMethod.TERMS:
        return PaymentSecurity(True, False, "on terms")
    paid = amount_paid(order) if paid is None else paid
    outstanding = order.total - paid
    if outstanding <= 0 and order.total > 0:
        return PaymentSecurity(True, False, "paid", paid)
    if order.total <= 0:
        if order.is_zero_dollar_quote:
            return PaymentSecurity(
                False, False, "the zero-dollar quote has not been priced yet", paid
            )
        return PaymentSecurity(True, False, "nothing owed", paid)
    authorization = _current(order, moment, authorizations)
    if authorization is None:
        lapsed = (
            "the authorization has expired"
            if _has_lapsed(order, moment, authorizations)
            else "no valid authorization"
        )
        return PaymentSecurity(False, False, lapsed, paid)
    if authorization.amount < outstanding:
        return PaymentSecurity(False, False, _not_covered(authorization, outstanding, order), paid)
    return PaymentSecurity(True, True, "authorized", paid)


def _not_covered(authorization: Authorization, outstanding: int, order: Order) -> str:
    held, owed = (
        format_minor(amount, order.currency) for amount in (authorization.amount, outstanding)
    )
    return f"the authorization of {held} does not cover the {owed} owed"


def _current(order: Order, moment, authorizations) -> Authorization | None:
    """As `current_authorization`, from the authorizations given when there are."""
    if authorizations is None:
        return current_authorization(order, moment)
    valid = [authorization for authorization in authorizations if authorization.is_valid_at(moment)]
    return max(
        valid, key=lambda authorization: (authorization.expires_at, authorization.id), default=None
    )


def _has_lapsed(order: Order, moment, authorizations=None) -> bool:
    if authorizations is None:
        return Authorization.objects.filter(order=order, expires_at__lte=moment).exists()
    return any(
        authorization.expires_at is not None and authorization.expires_at <= moment
        for authorization in authorizations
    )


def order_payments(order: Order) -> dict:
    """Everything the order screen shows about payments, in four queries (the last reads
    the captures and voids still open at the gateway), with the amount paid summed from the
    captures and recorded payments read (what `amount_paid` would read again)."""
    captures = list(Capture.objects.filter(authorization__order=order))
    external_payments = list(
        ExternalPayment.objects.filter(order=order).select_related("recorded_by")
    )
    return {
        "authorizations": list(
            Authorization.objects.filter(order=order).select_related("created_by")
        ),
        "captures": captures,
        "external_payments": external_payments,
        "open_steps": list(
            GatewayStep.objects.filter(order=order, status__in=STEP_OPEN).select_related(
                "authorization"
            )
        ),
        "paid": sum(capture.amount for capture in captures)
        + sum(payment.amount for payment in external_payments),
    }
