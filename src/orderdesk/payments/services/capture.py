"""Capturing at shipment, voiding a hold no longer wanted, and payments taken outside orderdesk."""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.permissions import require
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order, OrderStatus
from orderdesk.payments.errors import CaptureFailed, NothingToAuthorize
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import (
    GatewayTimeout,
    GatewayUnavailable,
    ResultStatus,
)
from orderdesk.payments.models import (
    Capture,
    ExternalPayment,
)
from orderdesk.payments.services.authorization import _format, outstanding_amount
from orderdesk.payments.services.holds import capture_record
from orderdesk.payments.state import current_authorization, payment_state_refresh


def authorization_capture(*, order: Order, actor=None) -> Capture | None:
    """Capture the outstanding amount from the current authorization (at shipment).

    Call inside the shipping transaction, with the order locked.
    """
    outstanding = outstanding_amount(order)
    if outstanding <= 0:
        return None
    authorization = current_authorization(order)
    if authorization is None or authorization.amount < outstanding:
        raise CaptureFailed("No valid authorization covers the amount owed.")
    key = f"capture-{authorization.pk}-{outstanding}"
    try:
        result = get_gateway(authorization.gateway).capture(
            reference=authorization.gateway_reference,
            amount=outstanding,
            currency=authorization.currency,
            idempotency_key=key,
        )
    except (GatewayTimeout, GatewayUnavailable) as error:
        raise CaptureFailed(
            f"The gateway did not confirm the capture ({error}); try again."
        ) from error
    if result.status != ResultStatus.CAPTURED:
        event_record(
            order,
            EventKind.CAPTURE_FAILED,
            f"Capture refused: {result.message or result.decline_code}",
            actor=actor,
        )
        raise CaptureFailed(
            f"The gateway refused the capture: {result.message or result.decline_code}."
        )
    capture = capture_record(
        authorization, amount=outstanding, reference=result.reference, key=key, actor=actor
    )
    payment_state_refresh(order, also=LAST_ACTION_FIELDS)
    return capture


@transaction.atomic
def external_payment_record(
    *, order: Order, amount: int, reference: str, reason: str, actor
) -> ExternalPayment:
    """A supervisor records a payment taken outside orderdesk; it secures shipment."""
    require(actor, "orders.record_external_payment")
    if amount <= 0:
        raise NothingToAuthorize("The amount must be greater than zero.", field="amount")
    if not reference.strip():
        raise NothingToAuthorize("Give the payment's reference.", field="reference")
    if not reason.strip():
        raise NothingToAuthorize("Say why the payment was taken outside orderdesk.", field="reason")
    order = lock_one(Order.objects, pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        raise NothingToAuthorize(f"Order {order.number} is cancelled; it owes nothing.")
    owed = outstanding_amount(order)
    if amount > owed:
        # Over-recording would hide a refund the business owes; record only what is owed.
        raise NothingToAuthorize(
            f"Order {order.number} owes {_format(owed, order.currency)}; record at most that.",
            field="amount",
        )
    payment = ExternalPayment.objects.create(
        order=order,
        amount=amount,
        currency=order.currency,
        reference=reference.strip(),
        reason=reason.strip(),
        recorded_by=actor,
        recorded_at=now(),
    )
    event_record(
        order,
        EventKind.EXTERNAL_PAYMENT,
        f"External payment of {_format(amount, order.currency)} recorded ({reference})",
        actor=actor,
        details={"reason": reason, "reference": reference},
    )
    payment_state_refresh(order)
    return payment
