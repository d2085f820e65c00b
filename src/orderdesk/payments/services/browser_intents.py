"""A payment for the browser to confirm with the gateway's own script (Stripe.js).

Creating it holds no money: the hold is made when the browser confirms it, and orderdesk
records it when the browser posts the confirmed id, as the payment token of an ordinary
durable authorization (`authorization_attempt`). The same checks as for any authorization
are made first, so a page never starts a payment that would then be refused. A confirmed
hold orderdesk then refuses is recorded and voided through a void step, never dropped.
"""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.money import format_minor
from orderdesk.common.permissions import require
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order, PaymentMethod
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import Capability, GatewayResult, PaymentError, ResultStatus
from orderdesk.payments.gateways.stripe_confirmed import BrowserIntent, ClientIntent
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.policy import expiry_for
from orderdesk.payments.services.authorization import (
    authorization_amount_check,
)
from orderdesk.payments.services.voids import authorization_void
from orderdesk.payments.state import payment_state_refresh

logger = logging.getLogger(__name__)


def card_intent_create(
    *, order: Order, source: str, actor=None, amount: int | None = None
) -> ClientIntent:
    """A PaymentIntent for the order's outstanding amount (or `amount`), for Stripe.js.

    Raises BusinessRuleError when the order may not be authorized now, and the gateway's
    errors (PaymentError) when it cannot be reached.
    """
    if source == AuthorizationSource.MANUAL:
        require(actor, "orders.process_card")
    gateway = get_gateway(method=PaymentMethod.CARD)
    if Capability.BROWSER_CONFIRMATION not in gateway.capabilities:
        raise BusinessRuleError("This payment gateway does not confirm cards in the browser.")
    order = Order.objects.get(pk=order.pk)
    amount = authorization_amount_check(order, amount=amount, source=source)
    return gateway.intent_create(
        amount=amount,
        currency=order.currency,
        idempotency_key=f"intent-{uuid.uuid4()}",
        order_reference=order.number,
        source=source,
    )


def card_intent_recorded(*, order: Order, payment_token: str) -> bool:
    """Whether an authorization records this payment (even a pending one: a double submit
    of the same payment is still being recorded), on the order or its replacement."""
    return Authorization.objects.filter(
        Q(order=order) | Q(order__supersedes=order), instrument_reference=payment_token
    ).exists()


def card_intent_read(*, payment_token: str) -> BrowserIntent | None:
    """A confirmed payment orderdesk made for a browser, as the gateway has it now (None
    when the card gateway confirms nothing in browsers or orderdesk did not make it).
    Raises PaymentError when the gateway cannot be reached."""
    gateway = get_gateway(method=PaymentMethod.CARD)
    if Capability.BROWSER_CONFIRMATION not in gateway.capabilities:
        return None
    return gateway.intent_read(reference=payment_token)


def card_intent_release(
    *,
    order: Order,
    payment_token: str,
    reason: str,
    source: str = AuthorizationSource.CUSTOMER_LINK,
) -> bool:
    """Release a payment the browser confirmed for this order that orderdesk refused before
    recording it (the link closed, the order secured meanwhile).

    The hold is recorded as the authorization it is, and voided as any other: a void step
    the worker delivers and retries until the gateway confirms, so the order's timeline and
    the gateway's ledger agree. Only an intent no authorization records and that was made
    for this order; a gateway that cannot be reached now leaves it to the webhook of the
    hold (`gateway_events_unrecorded`). True when a release was decided here.
    """
    if not payment_token.startswith("pi_") or card_intent_recorded(
        order=order, payment_token=payment_token
    ):
        return False
    try:
        intent = card_intent_read(payment_token=payment_token)
    except PaymentError as error:
        logger.warning("could not read PaymentIntent %s to release it: %s", payment_token, error)
        return False
    if intent is None or intent.order_reference != order.number:
        return False
    if intent.hold.status != ResultStatus.AUTHORIZED:
        return False  # nothing held (declined, cancelled, captured)
    try:
        return _refused_hold_record(order, payment_token, intent.hold, source, reason)
    except IntegrityError:  # released at once by another request: the other one won
        return False


@transaction.atomic
def _refused_hold_record(order, payment_token, hold: GatewayResult, source, reason) -> bool:
    order = lock_one(Order.objects, pk=order.pk)
    if card_intent_recorded(order=order, payment_token=payment_token):
        return False
    moment = now()
    authorization_gateway = get_gateway(method=PaymentMethod.CARD).name
    authorization = Authorization.objects.create(
        order=order,
        gateway=authorization_gateway,
        method=PaymentMethod.CARD,
        gateway_reference=payment_token,
        instrument_reference=payment_token,
        amount=hold.amount,
        currency=hold.currency or order.currency,
        status=AuthorizationStatus.AUTHORIZED,
        authorized_at=moment,
        expires_at=expiry_for(
            authorized_at=moment,
            gateway=authorization_gateway,
            method=PaymentMethod.CARD,
            network=hold.card_brand,
            reported=hold.expires_at,
        ),
        card_brand=hold.card_brand,
        card_last4=hold.card_last4,
        idempotency_key=f"intent-{payment_token}"[:100],
        source=source,
        created_at=moment,
    )
    event_record(
        order,
        EventKind.AUTHORIZATION_MADE,
        f"Authorized {format_minor(hold.amount, authorization.currency)} on "
        f"{authorization.instrument or 'a card'} in the browser, not kept: {reason}",
        actor_label="gateway",
        details={"authorization": authorization.pk, "source": source},
    )
    authorization_void(authorization, reason=reason)
    payment_state_refresh(order, also=LAST_ACTION_FIELDS)
    return True
