"""A payment for the browser to confirm with the gateway's own script (Stripe.js).

Creating it holds no money: the hold is made when the browser confirms it, and orderdesk
records it when the browser posts the confirmed id, as the payment token of an ordinary
durable authorization (`authorization_attempt`). The same checks as for any authorization
are made first, so a page never starts a payment that would then be refused.
"""

from __future__ import annotations

import logging
import uuid

from django.db.models import Q

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.permissions import require
from orderdesk.orders.models import Order, PaymentMethod
from orderdesk.payments.errors import NothingToAuthorize
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import Capability, PaymentError
from orderdesk.payments.gateways.stripe_confirmed import ClientIntent
from orderdesk.payments.models import Authorization, AuthorizationSource
from orderdesk.payments.services.authorization import (
    _refuse_unless_authorizable,
    _refuse_when_secured,
    outstanding_amount,
)

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
    _refuse_unless_authorizable(order)
    amount = outstanding_amount(order) if amount is None else amount
    if amount <= 0:
        raise NothingToAuthorize(f"Order {order.number} owes nothing.", field="amount")
    if source != AuthorizationSource.CUSTOMER_LINK:
        _refuse_when_secured(order)
    return gateway.intent_create(
        amount=amount,
        currency=order.currency,
        idempotency_key=f"intent-{uuid.uuid4()}",
        order_reference=order.number,
    )


def card_intent_release(*, order: Order, payment_token: str) -> bool:
    """Release a payment the browser confirmed but orderdesk refused before recording it.

    Only an intent that no authorization records (not even a pending one: a double submit
    of the same payment is still being recorded) and that was made for this order.
    """
    if not payment_token.startswith("pi_"):
        return False
    recorded = Authorization.objects.filter(
        Q(order=order) | Q(order__supersedes=order), instrument_reference=payment_token
    )
    if recorded.exists():
        return False
    gateway = get_gateway(method=PaymentMethod.CARD)
    if Capability.BROWSER_CONFIRMATION not in gateway.capabilities:
        return False
    try:
        return gateway.intent_release(reference=payment_token, order_reference=order.number)
    except PaymentError as error:
        logger.warning("could not release PaymentIntent %s: %s", payment_token, error)
        return False
