"""Authorizing: one hold per order at a time, recorded before the gateway call and settled after."""

from __future__ import annotations

import logging
import uuid
from functools import cache

from django.db import connection, transaction

from orderdesk.common.clock import now
from orderdesk.common.inserts import row_insert
from orderdesk.common.locks import lock_columns, lock_one, lock_with_related
from orderdesk.common.permissions import require
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order, PaymentMethod
from orderdesk.payments.errors import AuthorizationInProgress, NothingToAuthorize
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
)
from orderdesk.payments.policy import expiry_for
from orderdesk.payments.services.transitions import authorization_transition
from orderdesk.payments.state import amount_paid, current_authorization, payment_state_refresh

logger = logging.getLogger(__name__)


IN_FLIGHT = (AuthorizationStatus.PENDING, AuthorizationStatus.UNKNOWN)


# What recording a gateway's answer changes on an authorization, besides its status.
SETTLED_FIELDS = (
    "gateway_reference",
    "card_brand",
    "card_last4",
    "payer_email",
    "decline_code",
    "message",
    "authorized_at",
    "expires_at",
)

# The order's columns that starting an authorization reads (`authorization_amount_check`).
BEGIN_COLUMNS = ("status", "payment_method", "total", "number", "currency")
# The order's columns that recording an answer and what it means read (the payment state,
# the link's checks); the rest of the order is not needed (a deferred column loads if read).
SETTLE_COLUMNS = (
    "status",
    "payment_method",
    "total",
    "kind",
    "number",
    "currency",
    "cancel_reason",
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

    Returns the authorization and the gateway's answer, which the caller records with
    `authorization_settle`, in a transaction of its own or in one that also records what
    the answer means to it. A timeout is recorded here as `unknown` (answer None).
    """
    if source == AuthorizationSource.MANUAL:
        require(actor, "orders.process_card")  # the virtual terminal, from any entry point
    gateway = get_gateway(gateway_name, method=method)
    authorization = _authorization_begin(
        order=order,
        amount=amount,
        method=method,
        source=source,
        actor=actor,
        gateway=gateway.name,
        instrument_reference=_token_reference(gateway, payment_token),
    )
    return _gateway_authorize(gateway, authorization, payment_token, order)


def _gateway_authorize(gateway, authorization, payment_token: str, order: Order):
    """The authorization and the gateway's answer; when the answer did not come, the
    authorization recorded as unknown (for reconciliation) and None."""
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
        result = _error_result(error, "gateway_unavailable")
    except PaymentError as error:
        # Anything else the adapter raises is a definite failure: never leave it pending,
        # which would block every later attempt on the order.
        result = _error_result(error, "gateway_error")
    return authorization, result


def _error_result(error: Exception, code: str) -> GatewayResult:
    return GatewayResult(status=ResultStatus.ERROR, message=str(error), decline_code=code)


def _token_reference(gateway, payment_token: str) -> str:
    reference = getattr(gateway, "token_reference", None)
    return reference(payment_token)[:200] if reference else ""


def _authorization_begin(
    *, order, amount, method, source, actor, gateway, instrument_reference=""
) -> Authorization:
    """Record a pending authorization of the order, checked under the order's lock, with
    its timeline row. The row is built before the lock is taken (on SQLite the transaction
    holds the database's write lock): nothing in it but its amount depends on the order."""
    pending = Authorization(
        order_id=order.pk,
        gateway=gateway,
        instrument_reference=instrument_reference,
        method=method,
        idempotency_key=f"auth-{uuid.uuid4()}",
        source=source,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    return _pending_record(pending, amount=amount, actor=actor)


@transaction.atomic
def _pending_record(authorization: Authorization, *, amount, actor) -> Authorization:
    # Only what the checks and the timeline row read: the rest of the order is not needed.
    order = lock_columns(Order, authorization.order_id, BEGIN_COLUMNS)
    amount = authorization_amount_check(order, amount=amount, source=authorization.source)
    authorization.order = order
    authorization.amount, authorization.currency = amount, order.currency
    authorization.created_at = now()
    row_insert(authorization)
    event_record(
        order,
        EventKind.AUTHORIZATION_REQUESTED,
        f"Authorization of {_format(amount, order.currency)} requested",
        actor=actor,
        details={"authorization": authorization.pk, "source": authorization.source},
    )
    return authorization


def authorization_amount_check(order: Order, *, amount: int | None, source: str) -> int:
    """The amount a new hold on the order may be for (`amount`, or what it owes), or the
    rule that refuses it: decided here for every way a hold is made."""
    _refuse_unless_authorizable(order)
    amount = outstanding_amount(order) if amount is None else amount
    if amount <= 0:
        raise NothingToAuthorize(f"Order {order.number} owes nothing.", field="amount")
    if source != AuthorizationSource.CUSTOMER_LINK:
        # A second hold on the customer's card for money already secured (a stale order
        # screen, an API retry with a new key). A payment link is the one way to replace a
        # valid hold: it voids the old one once the new one succeeds.
        _refuse_when_secured(order)
    return amount


def _refuse_unless_authorizable(order: Order) -> None:
    """Decided here for every caller (the API, the order screen's card, a payment link)."""
    if not order.is_live:
        raise NothingToAuthorize(f"Order {order.number} is {order.get_status_display().lower()}.")
    if order.payment_method == PaymentMethod.TERMS:
        raise NothingToAuthorize(f"Order {order.number} is on terms: it is not authorized.")
    if _in_flight(order.pk):
        raise AuthorizationInProgress(
            "Another payment for this order is being processed; wait for its outcome."
        )


def _in_flight(order_id: int) -> bool:
    """Whether a hold on the order is pending or unknown (compiling the ORM's `.exists()`
    for this cost more than running it, on every customer's approval)."""
    with connection.cursor() as cursor:
        cursor.execute(_in_flight_sql(connection.ops.quote_name), [order_id, *IN_FLIGHT])
        return cursor.fetchone() is not None


@cache
def _in_flight_sql(quote) -> str:
    marks = ", ".join(["%s"] * len(IN_FLIGHT))
    return (
        f"SELECT 1 FROM {quote(Authorization._meta.db_table)} "  # noqa: S608 (names from the model)
        f"WHERE {quote('order_id')} = %s AND {quote('status')} IN ({marks}) LIMIT 1"
    )


def _refuse_when_secured(order: Order) -> None:
    current = current_authorization(order)
    if current is not None and current.amount >= outstanding_amount(order):
        raise NothingToAuthorize(
            f"Payment is already secured: {_format(current.amount, current.currency)} "
            f"authorized on {current.instrument}, valid until {current.expires_at:%b %d, %Y}. "
            "Nothing was charged."
        )


def _authorization_unknown(authorization: Authorization, message: str) -> Authorization:
    marked = authorization_unknown_mark(
        authorization.pk,
        message=message,
        timeline="Gateway did not answer; the outcome will be reconciled",
    )
    return marked or Authorization.objects.get(pk=authorization.pk)


@transaction.atomic
def authorization_unknown_mark(pk: int, *, message: str, timeline: str) -> Authorization | None:
    """A pending authorization whose answer did not come is `unknown` from now on, for
    reconciliation to settle through the gateway. None when it was settled meanwhile."""
    authorization = lock_one(Authorization.objects.select_related("order"), pk=pk)
    if authorization.status != AuthorizationStatus.PENDING:
        return None
    authorization.message = message[:300]
    authorization_transition(
        authorization,
        AuthorizationStatus.UNKNOWN,
        kind=EventKind.AUTHORIZATION_UNKNOWN,
        message=timeline,
        fields=("message",),
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
    authorization = lock_with_related(Authorization, authorization.pk, "order", SETTLE_COLUMNS)
    if authorization.status not in IN_FLIGHT:
        return authorization  # settled already by a concurrent reconciliation
    order = authorization.order
    authorization.gateway_reference = result.reference
    authorization.card_brand, authorization.card_last4 = result.card_brand, result.card_last4
    authorization.payer_email = result.payer_email
    authorization.decline_code, authorization.message = result.decline_code, result.message[:300]
    if result.status in (ResultStatus.AUTHORIZED, ResultStatus.CAPTURED, ResultStatus.VOIDED):
        kind, (status, text) = EventKind.AUTHORIZATION_MADE, _settle_approved(authorization, result)
    else:
        kind, (status, text) = EventKind.AUTHORIZATION_FAILED, _settle_refused(result)
    authorization_transition(
        authorization, status, kind=kind, message=text, actor=actor, fields=SETTLED_FIELDS
    )
    if state_refresh:
        payment_state_refresh(order, also=LAST_ACTION_FIELDS)
    return authorization


def _settle_approved(authorization: Authorization, result: GatewayResult) -> tuple[str, str]:
    # A reconciled outcome happened when it was requested, not when we learned of it:
    # counting validity from then never lets an authorization outlive the gateway's hold.
    reconciled = authorization.status == AuthorizationStatus.UNKNOWN
    authorization.authorized_at = authorization.authorized_at or (
        authorization.created_at if reconciled else now()
    )
    authorization.expires_at = expiry_for(
        authorized_at=authorization.authorized_at,
        gateway=authorization.gateway,
        method=authorization.method,
        network=result.card_brand,
        reported=result.expires_at,
    )
    text = f"Authorized {_format(authorization.amount, authorization.currency)}"
    text += f" on {authorization.instrument}" if authorization.instrument else ""
    return AuthorizationStatus.AUTHORIZED, text


def _settle_refused(result: GatewayResult) -> tuple[str, str]:
    failed = result.status == ResultStatus.ERROR
    status = AuthorizationStatus.ERROR if failed else AuthorizationStatus.DECLINED
    reason = result.message or result.decline_code or "no reason given"
    return status, f"Authorization {status}: {reason}"
