"""Capturing at shipment as a durable step, and payments taken outside orderdesk.

A capture is recorded (a capture step with its idempotency key, at most one in flight per
order) with the order locked, the gateway is asked outside any transaction, and the answer
is recorded under the order's lock again by `capture_step_record`, the same however it came:
in time, or through reconciliation from the gateway's record of the hold. The `Capture` row
is the money record made when the step succeeds.
"""

from __future__ import annotations

import uuid

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.permissions import require
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, Order, OrderStatus
from orderdesk.payments.errors import CaptureFailed, NothingToAuthorize
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import (
    GatewayResult,
    GatewayTimeout,
    PaymentError,
    ResultStatus,
)
from orderdesk.payments.models import (
    STEP_OPEN,
    Authorization,
    ExternalPayment,
    GatewayStep,
    StepKind,
    StepStatus,
    valid_at,
)
from orderdesk.payments.services.authorization import _format, outstanding_amount
from orderdesk.payments.services.holds import capture_record, hold_truth_record
from orderdesk.payments.services.steps import step_unknown
from orderdesk.payments.services.transitions import step_transition
from orderdesk.payments.state import payment_state_refresh

UNAVAILABLE = "gateway_unavailable"


def capture_in_flight(order: Order) -> bool:
    """A capture of the order is recorded and not yet settled (pending or unknown)."""
    return GatewayStep.objects.filter(
        order=order, kind=StepKind.CAPTURE, status__in=STEP_OPEN
    ).exists()


def capture_step_begin(*, order: Order, actor=None, purpose: str = "shipment") -> GatewayStep:
    """Record the capture of the outstanding amount from the hold that covers it. Call with
    the order locked; the caller commits, then calls `capture_step_call` outside it."""
    if capture_in_flight(order):
        raise CaptureFailed(
            "A capture for this order is being confirmed with the gateway; "
            "the order ships once it is settled."
        )
    outstanding = outstanding_amount(order)
    authorization = _covering(order, outstanding)
    return GatewayStep.objects.create(
        kind=StepKind.CAPTURE,
        authorization=authorization,
        order=order,
        amount=outstanding,
        currency=authorization.currency,
        idempotency_key=f"capture-{authorization.pk}-{uuid.uuid4().hex[:16]}",
        purpose=purpose,
        attempts=1,  # the one call the caller makes; reconciliation only asks about it
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now(),
    )


def _covering(order: Order, outstanding: int) -> Authorization:
    # A hold whose release is decided (a void step open) is not captured from.
    authorization = (
        Authorization.objects.filter(valid_at(now()), order=order, amount__gte=outstanding)
        .exclude(steps__kind=StepKind.VOID, steps__status__in=STEP_OPEN)
        .order_by("-expires_at", "-id")
        .first()
    )
    if authorization is None:
        raise CaptureFailed("No valid authorization covers the amount owed.")
    return authorization


def capture_step_call(step: GatewayStep) -> GatewayResult | None:
    """Ask the gateway to capture (outside any transaction and lock). None when no answer
    came: the step is then unknown, for reconciliation."""
    authorization = step.authorization
    try:
        return get_gateway(authorization.gateway).capture(
            reference=authorization.gateway_reference,
            amount=step.amount,
            currency=step.currency,
            idempotency_key=step.idempotency_key,
        )
    except GatewayTimeout as error:
        step_unknown(step.pk, str(error))
        return None
    except PaymentError as error:  # a 5xx or a refused connection: nothing happened there
        return GatewayResult(
            status=ResultStatus.ERROR, decline_code=UNAVAILABLE, message=str(error)
        )


def capture_step_record(
    step: GatewayStep, authorization: Authorization, result: GatewayResult, *, actor=None
) -> bool:
    """Record a capture's answer (under `steps.step_lock`); True when the money was captured.
    The caller refreshes the order's payment state."""
    if result.status == ResultStatus.CAPTURED:
        capture_record(
            authorization,
            amount=step.amount,
            reference=result.reference,
            key=step.idempotency_key,
            actor=actor,
            details={"step": step.pk},
        )
        step_transition(step, StepStatus.SUCCEEDED)
        return True
    if result.status in (ResultStatus.VOIDED, ResultStatus.EXPIRED):
        hold_truth_record(authorization, result, key=step.idempotency_key)
    step.last_error = capture_refusal(result)[:500]
    step_transition(step, StepStatus.FAILED, fields=("last_error",))
    return False


def capture_refusal(result: GatewayResult) -> str:
    """What a CSR reads when a capture did not happen."""
    if result.decline_code == UNAVAILABLE:
        return f"The gateway did not confirm the capture ({result.message}); try again."
    if result.status == ResultStatus.AUTHORIZED:
        return "The gateway holds the authorization but did not capture it; try again."
    return f"The gateway refused the capture: {result.message or result.decline_code or result.status}."


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
