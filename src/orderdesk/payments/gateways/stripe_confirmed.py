"""Stripe PaymentIntents confirmed in the customer's (or the CSR's) browser with Stripe.js.

The card never reaches orderdesk: orderdesk's server creates a PaymentIntent for the amount
(`capture_method=manual`, an idempotency key, the order in its metadata) and gives the
browser only its client secret; Stripe.js confirms it with the card typed into Stripe's own
fields; the browser then posts the PaymentIntent id, which orderdesk records as the payment
token of an ordinary durable authorization. Its "gateway call" is the check below: the
intent is read back from Stripe and is a hold only if it is `requires_capture`, for this
order, for exactly this amount and currency. An intent for another amount is released.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe

from orderdesk.payments.gateways.base import GatewayResult, GatewayTimeout, ResultStatus

ORDER_METADATA_KEY = "orderdesk_order"
INTENT_METADATA_KEY = "orderdesk_intent_key"
SOURCE_METADATA_KEY = "orderdesk_source"  # the customer's link or the virtual terminal


@dataclass(frozen=True)
class ClientIntent:
    """What the browser needs to confirm a PaymentIntent (never stored by orderdesk)."""

    reference: str
    client_secret: str


@dataclass(frozen=True)
class BrowserIntent:
    """A PaymentIntent orderdesk made for a browser to confirm, as Stripe has it now."""

    hold: GatewayResult  # authorized while it is `requires_capture`
    order_reference: str
    source: str  # "" for an intent made before the source was kept


def intent_create(
    gateway, *, amount, currency, idempotency_key, order_reference, source=""
) -> ClientIntent:
    from orderdesk.payments.gateways.stripe_gateway import stripe_amount

    params = {
        "amount": stripe_amount(amount, currency),
        "currency": currency.lower(),
        "capture_method": "manual",
        "payment_method_types": ["card"],
        "description": f"Order {order_reference}",
        "metadata": {ORDER_METADATA_KEY: order_reference, INTENT_METADATA_KEY: idempotency_key},
    }
    if source:
        params["metadata"][SOURCE_METADATA_KEY] = source
    intent = gateway._call(
        gateway._client().v1.payment_intents.create,
        params,
        {"idempotency_key": idempotency_key},
    )
    return ClientIntent(reference=intent["id"], client_secret=intent["client_secret"])


def _refused(code: str, message: str, reference: str = "") -> GatewayResult:
    return GatewayResult(
        status=ResultStatus.DECLINED, reference=reference, decline_code=code, message=message
    )


def intent_retrieve(gateway, reference: str) -> dict | None:
    try:
        return gateway._call(
            gateway._client().v1.payment_intents.retrieve,
            reference,
            {"expand": ["latest_charge"]},
        )
    except stripe.InvalidRequestError:
        return None


def confirmed_intent_check(
    gateway, *, reference, amount, currency, order_reference, idempotency_key
) -> GatewayResult:
    """The hold a browser confirmed, as orderdesk records it (read back from Stripe)."""
    from orderdesk.payments.gateways.stripe_gateway import _intent_outcome, orderdesk_amount

    intent = intent_retrieve(gateway, reference)
    if intent is None:
        return _refused("invalid_token", "No such Stripe PaymentIntent")
    if (intent.get("metadata") or {}).get(ORDER_METADATA_KEY) != order_reference:
        return _refused("intent_mismatch", "The PaymentIntent is not for this order", reference)
    status = intent.get("status")
    if status in ("succeeded", "canceled"):
        return _refused("intent_unexpected_state", f"The PaymentIntent is {status}", reference)
    if status == "processing":
        raise GatewayTimeout("Stripe is still processing the payment; the outcome is not known")
    result = _intent_outcome(intent)
    if result.status != ResultStatus.AUTHORIZED:
        return result  # declined in the browser: recorded as the customer's failed attempt
    received = orderdesk_amount(intent.get("amount") or 0, currency)
    if (received, (intent.get("currency") or "").upper()) != (amount, currency.upper()):
        gateway.void(reference=reference, idempotency_key=f"{idempotency_key}-mismatch")
        return GatewayResult(
            status=ResultStatus.ERROR,
            reference=reference,
            decline_code="amount_mismatch",
            message="The PaymentIntent was confirmed for a different amount; it was released",
        )
    return result


def intent_fetch(gateway, reference: str) -> GatewayResult:
    """Reconciliation of an authorization whose token was a confirmed PaymentIntent."""
    from orderdesk.payments.gateways.stripe_gateway import _intent_outcome

    intent = intent_retrieve(gateway, reference)
    if intent is None:
        return GatewayResult(status=ResultStatus.NOT_FOUND)
    return _intent_outcome(intent)


def intent_read(gateway, reference: str) -> BrowserIntent | None:
    """An intent orderdesk created (its metadata names the order and orderdesk's key), read
    back from Stripe; None when Stripe does not know it or orderdesk did not make it."""
    from orderdesk.payments.gateways.stripe_gateway import _hold_outcome

    intent = intent_retrieve(gateway, reference) if reference.startswith("pi_") else None
    metadata = (intent or {}).get("metadata") or {}
    if not metadata.get(ORDER_METADATA_KEY) or not metadata.get(INTENT_METADATA_KEY):
        return None
    return BrowserIntent(
        hold=_hold_outcome(intent),
        order_reference=str(metadata[ORDER_METADATA_KEY]),
        source=str(metadata.get(SOURCE_METADATA_KEY, "")),
    )
