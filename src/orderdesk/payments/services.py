"""Payment lifecycle: authorize, capture at shipment, void, expire, reconcile.

Gateway calls happen between two short transactions: the first records a `pending`
authorization with its idempotency key (and refuses if another one is in flight for the
order, so concurrent clicks never authorize twice); the second records the outcome. A
timeout leaves the authorization `unknown` until `authorization_reconcile` asks the
gateway what happened with that key.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.permissions import require
from orderdesk.common.sql import status_in
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order, OrderStatus
from orderdesk.payments.errors import AuthorizationInProgress, CaptureFailed, NothingToAuthorize
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import (
    GatewayResult,
    GatewayTimeout,
    GatewayUnavailable,
    PaymentError,
    ResultStatus,
)
from orderdesk.payments.models import (
    Authorization,
    AuthorizationSource,
    AuthorizationStatus,
    Capture,
    ExternalPayment,
)
from orderdesk.payments.policy import expiry_for
from orderdesk.payments.state import LIVE, amount_paid, current_authorization, payment_state_refresh

logger = logging.getLogger(__name__)

IN_FLIGHT = (AuthorizationStatus.PENDING, AuthorizationStatus.UNKNOWN)
# What recording a gateway's answer changes on an authorization.
SETTLED_FIELDS = (
    "status",
    "gateway_reference",
    "card_brand",
    "card_last4",
    "payer_email",
    "decline_code",
    "message",
    "authorized_at",
    "expires_at",
    "updated_at",
)


def _format(amount: int, currency: str) -> str:
    from orderdesk.common.money import format_minor

    return format_minor(amount, currency)


def outstanding_amount(order: Order) -> int:
    return max(order.total - amount_paid(order), 0)


def authorization_request(
    *,
    order: Order,
    payment_token: str,
    method: str,
    source: str,
    actor=None,
    amount: int | None = None,
    gateway_name: str | None = None,
) -> Authorization:
    """Authorize the order's outstanding amount (or `amount`) with a tokenized instrument."""
    authorization, result = authorization_attempt(
        order=order,
        payment_token=payment_token,
        method=method,
        source=source,
        actor=actor,
        amount=amount,
        gateway_name=gateway_name,
    )
    if result is None:
        return authorization  # unknown: reconciliation will tell
    return authorization_settle(authorization, result, actor=actor)


def authorization_attempt(
    *,
    order: Order,
    payment_token: str,
    method: str,
    source: str,
    actor=None,
    amount: int | None = None,
    gateway_name: str | None = None,
) -> tuple[Authorization, GatewayResult | None]:
    """Record a pending authorization, then ask the gateway (outside any transaction).

    Returns the pending authorization and the gateway's answer, which the caller records
    with `authorization_settle`, in a transaction of its own or in one that also records
    what the answer means to it. A timeout is recorded here as `unknown` (answer None).
    """
    if source == AuthorizationSource.MANUAL:
        require(actor, "orders.process_card")  # the virtual terminal, from any entry point
    gateway = get_gateway(gateway_name)
    authorization = _authorization_begin(
        order=order,
        amount=amount,
        method=method,
        source=source,
        actor=actor,
        gateway=gateway.name,
        instrument_reference=_token_reference(gateway, payment_token),
    )
    try:
        result = gateway.authorize(
            amount=authorization.amount,
            currency=authorization.currency,
            payment_token=payment_token,
            idempotency_key=authorization.idempotency_key,
            order_reference=order.number,
        )
    except GatewayTimeout as error:
        return _authorization_unknown(authorization, str(error)), None
    except GatewayUnavailable as error:
        result = GatewayResult(
            status=ResultStatus.ERROR, message=str(error), decline_code="gateway_unavailable"
        )
    except PaymentError as error:
        # Anything else the adapter raises is a definite failure: never leave it pending,
        # which would block every later attempt on the order.
        result = GatewayResult(
            status=ResultStatus.ERROR, message=str(error), decline_code="gateway_error"
        )
    return authorization, result


def _token_reference(gateway, payment_token: str) -> str:
    reference = getattr(gateway, "token_reference", None)
    return reference(payment_token)[:200] if reference else ""


@transaction.atomic
def _authorization_begin(
    *, order, amount, method, source, actor, gateway, instrument_reference=""
) -> Authorization:
    order = lock_one(Order.objects, pk=order.pk)
    if not order.is_live:
        raise NothingToAuthorize(f"Order {order.number} is {order.get_status_display().lower()}.")
    if Authorization.objects.filter(order=order, status__in=IN_FLIGHT).exists():
        raise AuthorizationInProgress(
            "Another payment for this order is being processed; wait for its outcome."
        )
    amount = outstanding_amount(order) if amount is None else amount
    if amount <= 0:
        raise NothingToAuthorize(f"Order {order.number} owes nothing.", field="amount")
    if source != AuthorizationSource.CUSTOMER_LINK:
        # A second hold on the customer's card for money already secured (a stale order
        # screen, an API retry with a new key). A payment link is the one way to replace a
        # valid hold: it voids the old one once the new one succeeds.
        _refuse_when_secured(order)
    authorization = Authorization.objects.create(
        order=order,
        gateway=gateway,
        instrument_reference=instrument_reference,
        method=method,
        amount=amount,
        currency=order.currency,
        idempotency_key=f"auth-{uuid.uuid4()}",
        source=source,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=now(),
    )
    event_record(
        order,
        EventKind.AUTHORIZATION_REQUESTED,
        f"Authorization of {_format(amount, order.currency)} requested",
        actor=actor,
        details={"authorization": authorization.pk, "source": source},
    )
    return authorization


def _refuse_when_secured(order: Order) -> None:
    current = current_authorization(order)
    if current is not None and current.amount >= outstanding_amount(order):
        raise NothingToAuthorize(
            f"Payment is already secured: {_format(current.amount, current.currency)} "
            f"authorized on {current.instrument}, valid until {current.expires_at:%b %d, %Y}. "
            "Nothing was charged."
        )


@transaction.atomic
def _authorization_unknown(authorization: Authorization, message: str) -> Authorization:
    authorization = lock_one(Authorization.objects, pk=authorization.pk)
    authorization.status = AuthorizationStatus.UNKNOWN
    authorization.message = message[:300]
    authorization.save(update_fields=["status", "message", "updated_at"])
    event_record(
        authorization.order,
        EventKind.AUTHORIZATION_UNKNOWN,
        "Gateway did not answer; the outcome will be reconciled",
        details={"authorization": authorization.pk},
        defer_last_action=True,
    )
    payment_state_refresh(authorization.order, also=LAST_ACTION_FIELDS)
    return authorization


@transaction.atomic(savepoint=False)
def authorization_settle(
    authorization: Authorization, result: GatewayResult, *, actor=None, state_refresh: bool = True
) -> Authorization:
    """Record a gateway's answer on a pending or unknown authorization (exactly once).

    With `state_refresh=False` the caller is inside its own transaction and records more
    there: it must end with `payment_state_refresh(order, also=LAST_ACTION_FIELDS)` on the
    returned authorization's order, which writes the state and this timeline row's last
    action in one UPDATE.
    """
    authorization = lock_one(Authorization.objects.select_related("order"), pk=authorization.pk)
    if authorization.status not in IN_FLIGHT:
        return authorization  # settled already by a concurrent reconciliation
    order = authorization.order
    authorization.gateway_reference = result.reference
    authorization.card_brand, authorization.card_last4 = result.card_brand, result.card_last4
    authorization.payer_email = result.payer_email
    authorization.decline_code, authorization.message = result.decline_code, result.message[:300]
    if result.status in (ResultStatus.AUTHORIZED, ResultStatus.CAPTURED, ResultStatus.VOIDED):
        # A reconciled outcome happened when it was requested, not when we learned of it:
        # counting validity from then never lets an authorization outlive the gateway's hold.
        reconciled = authorization.status == AuthorizationStatus.UNKNOWN
        authorization.authorized_at = authorization.authorized_at or (
            authorization.created_at if reconciled else now()
        )
        authorization.status = AuthorizationStatus.AUTHORIZED
        authorization.expires_at = expiry_for(
            authorized_at=authorization.authorized_at,
            gateway=authorization.gateway,
            method=authorization.method,
            network=result.card_brand,
            reported=result.expires_at,
        )
        text = f"Authorized {_format(authorization.amount, authorization.currency)}"
        if authorization.instrument:
            text += f" on {authorization.instrument}"
        kind = EventKind.AUTHORIZATION_MADE
    else:
        authorization.status = (
            AuthorizationStatus.ERROR
            if result.status == ResultStatus.ERROR
            else AuthorizationStatus.DECLINED
        )
        text = f"Authorization {authorization.status}: {result.message or result.decline_code or 'no reason given'}"
        kind = EventKind.AUTHORIZATION_FAILED
    authorization.save(update_fields=SETTLED_FIELDS)
    event_record(
        order,
        kind,
        text,
        actor=actor,
        details={"authorization": authorization.pk},
        defer_last_action=True,
    )
    if state_refresh:
        payment_state_refresh(order, also=LAST_ACTION_FIELDS)
    return authorization


def authorization_reconcile(authorization: Authorization) -> Authorization:
    """Ask the gateway what became of an `unknown` authorization and record it."""
    if authorization.status != AuthorizationStatus.UNKNOWN:
        return authorization
    result = get_gateway(authorization.gateway).fetch(
        idempotency_key=authorization.idempotency_key,
        reference=authorization.instrument_reference,
    )
    if result.status == ResultStatus.NOT_FOUND:
        result = GatewayResult(
            status=ResultStatus.ERROR,
            decline_code="not_received",
            message="The gateway never received this authorization",
        )
    with transaction.atomic():
        # Several workers may reconcile the same authorization: only the first records it.
        current = lock_one(Authorization.objects, pk=authorization.pk)
        if current.status != AuthorizationStatus.UNKNOWN:
            return current
        settled = authorization_settle(current, result)
        event_record(
            settled.order,
            EventKind.AUTHORIZATION_RECONCILED,
            f"Reconciled with the gateway: {settled.status}",
            details={"authorization": settled.pk},
        )
    if settled.status in LIVE and settled.order.status == OrderStatus.CANCELLED:
        # Cancelling voided what was live then; this hold surfaced later and must go too.
        settled = authorization_void(settled, reason="order was cancelled")
    return settled


def authorizations_reconcile_unknown(*, older_than_seconds: int = 60) -> int:
    """Reconcile every unknown authorization (the worker runs this on a schedule)."""
    from datetime import timedelta

    cutoff = now() - timedelta(seconds=older_than_seconds)
    unknown = Authorization.objects.filter(
        status_in([AuthorizationStatus.UNKNOWN]), created_at__lte=cutoff
    )  # from the partial index authorization_unknown
    count = 0
    for authorization in unknown.iterator():
        try:
            authorization_reconcile(authorization)
        except PaymentError:
            # The gateway could not tell yet; the next run tries again. One stuck row must
            # not keep the others unknown.
            logger.warning(
                "reconciliation of authorization %s deferred", authorization.pk, exc_info=True
            )
            continue
        count += 1
    return count


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
    capture = Capture.objects.create(
        authorization=authorization,
        amount=outstanding,
        currency=authorization.currency,
        gateway_reference=result.reference,
        idempotency_key=key,
        captured_at=now(),
    )
    authorization.status = (
        AuthorizationStatus.CAPTURED
        if outstanding == authorization.amount
        else AuthorizationStatus.PARTIALLY_CAPTURED
    )
    authorization.save(update_fields=["status", "updated_at"])
    event_record(
        order,
        EventKind.CAPTURED,
        f"Captured {_format(outstanding, order.currency)}",
        actor=actor,
        details={"authorization": authorization.pk, "capture": capture.pk},
    )
    payment_state_refresh(order)
    return capture


def authorization_void(
    authorization: Authorization, *, actor=None, reason: str = ""
) -> Authorization:
    """Release a live authorization at the gateway (cancellation, replacement, re-authorization)."""
    if authorization.status not in LIVE:
        return authorization
    try:
        result = get_gateway(authorization.gateway).void(
            reference=authorization.gateway_reference, idempotency_key=f"void-{authorization.pk}"
        )
    except (GatewayTimeout, GatewayUnavailable) as error:
        event_record(
            authorization.order,
            EventKind.NOTE,
            f"Void of authorization not confirmed ({error}); it will lapse at expiry",
            actor=actor,
        )
        return authorization
    if result.status != ResultStatus.VOIDED:
        event_record(
            authorization.order,
            EventKind.NOTE,
            "The gateway refused to void the authorization: "
            f"{result.message or result.decline_code or 'no reason given'}",
            actor=actor,
        )
        return authorization
    with transaction.atomic():
        authorization = lock_one(Authorization.objects.select_related("order"), pk=authorization.pk)
        if authorization.status in LIVE:
            authorization.status = AuthorizationStatus.VOIDED
            authorization.save(update_fields=["status", "updated_at"])
        event_record(
            authorization.order,
            EventKind.AUTHORIZATION_VOIDED,
            f"Authorization voided{': ' + reason if reason else ''}",
            actor=actor,
            details={"authorization": authorization.pk},
            defer_last_action=True,
        )
        payment_state_refresh(authorization.order, also=LAST_ACTION_FIELDS)
    return authorization


def authorizations_void_all(order: Order, *, actor=None, reason: str = "") -> None:
    for authorization in Authorization.objects.filter(order=order, status__in=LIVE):
        authorization_void(authorization, actor=actor, reason=reason)


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
