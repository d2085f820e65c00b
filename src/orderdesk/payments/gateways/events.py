"""What a gateway's webhook says, in orderdesk's words, once its origin is proven.

Each verifier checks the request the way its gateway documents (Stripe: the
`Stripe-Signature` header with its timestamp tolerance, through the stripe library; PayPal:
its verify-webhook-signature call; the sandbox: Standard Webhooks headers) and answers a
`WebhookEvent`, or raises `WebhookRefused` and nothing may change.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from orderdesk.payments.gateways.base import GatewayError
from orderdesk.payments.gateways.transport import minor_units, setting


class HoldChange:
    VOIDED = "voided"
    EXPIRED = "expired"
    CAPTURED = "captured"
    REAUTHORIZED = "reauthorized"


@dataclass(frozen=True)
class WebhookEvent:
    gateway: str
    event_id: str
    kind: str  # the gateway's own name for it
    change: str = ""  # a HoldChange, or "" when orderdesk does not act on this kind
    reference: str = ""  # the authorization's gateway reference
    amount: int | None = None  # captured amount, or the amount held after a reauthorization
    expires_at: datetime | None = None  # after a reauthorization
    # A reauthorization that makes a new hold (PayPal): how to find the hold it renews, the
    # earlier authorization's id, or the gateway order both belong to.
    renews_reference: str = ""
    renews_order: str = ""
    # A hold orderdesk asked for (a PaymentIntent made for Stripe.js): the order its
    # metadata names, so that one no authorization records is not left to lapse.
    order_reference: str = ""


class WebhookRefused(Exception):
    """The request is not a genuine, current event from the gateway."""


class WebhookRetryLater(Exception):
    """A genuine event that cannot be read now (the gateway did not answer a look-up): the
    gateway is asked to send it again (a 5xx answer), and nothing changed."""


def tolerance_seconds() -> int:
    return int(setting("ORDERDESK_WEBHOOK_TOLERANCE_SECONDS", 300))


def _json(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookRefused("the body is not JSON") from error
    if not isinstance(payload, dict):
        raise WebhookRefused("the body is not a JSON object")
    return payload


def _timestamp(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc) if value else None
    except (TypeError, ValueError):
        return None


# The sandbox: Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature v1).


def standard_webhook_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


_SANDBOX_CHANGES = {
    "authorization.voided": HoldChange.VOIDED,
    "authorization.expired": HoldChange.EXPIRED,
    "authorization.captured": HoldChange.CAPTURED,
    "authorization.reauthorized": HoldChange.REAUTHORIZED,
}


def sandbox_event_verify(headers, body: bytes) -> WebhookEvent:
    secret = setting("ORDERDESK_SANDBOX_WEBHOOK_SECRET", "")
    if not secret:
        raise WebhookRefused("ORDERDESK_SANDBOX_WEBHOOK_SECRET is not set")
    message_id = headers.get("webhook-id", "")
    try:
        timestamp = int(headers.get("webhook-timestamp", ""))
    except ValueError as error:
        raise WebhookRefused("no webhook-timestamp") from error
    if not message_id:
        raise WebhookRefused("no webhook-id")
    if abs(time.time() - timestamp) > tolerance_seconds():
        raise WebhookRefused("the timestamp is outside the tolerance")
    expected = standard_webhook_signature(secret, message_id, timestamp, body)
    offered = headers.get("webhook-signature", "").split()
    if not any(hmac.compare_digest(expected, signature) for signature in offered):
        raise WebhookRefused("the signature does not match")
    payload = _json(body)
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    kind = str(payload.get("type", ""))
    return WebhookEvent(
        gateway="sandbox",
        event_id=message_id,
        kind=kind,
        change=_SANDBOX_CHANGES.get(kind, ""),
        reference=str(data.get("reference", "")),
        amount=data.get("amount") if isinstance(data.get("amount"), int) else None,
        expires_at=_timestamp(data.get("expires_at")),
    )


# Stripe: the library's own signature check, with its timestamp tolerance.


def _stripe_signature_check(headers, body: bytes) -> None:
    import stripe

    secret = setting("ORDERDESK_STRIPE_WEBHOOK_SECRET", "")
    if not secret:
        raise WebhookRefused("ORDERDESK_STRIPE_WEBHOOK_SECRET is not set")
    try:
        stripe.Webhook.construct_event(
            body.decode("utf-8"),
            headers.get("Stripe-Signature", ""),
            secret,
            tolerance=tolerance_seconds(),
        )
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise WebhookRefused(f"the Stripe signature does not verify: {error}") from error


def stripe_event_verify(headers, body: bytes) -> WebhookEvent:
    from orderdesk.payments.gateways.stripe_gateway import orderdesk_amount

    _stripe_signature_check(headers, body)
    payload = _json(body)
    expected_account = setting("ORDERDESK_STRIPE_ACCOUNT", "")
    # With Connect, each event names the connected account it belongs to.
    if expected_account and payload.get("account") != expected_account:
        raise WebhookRefused("the event is for another Stripe account")
    intent = ((payload.get("data") or {}).get("object")) or {}
    kind = str(payload.get("type", ""))
    change, amount = "", None
    if kind == "payment_intent.canceled":
        # Stripe cancels an uncaptured intent itself when the authorization lapses.
        automatic = intent.get("cancellation_reason") == "automatic"
        change = HoldChange.EXPIRED if automatic else HoldChange.VOIDED
    elif kind == "payment_intent.succeeded":
        change = HoldChange.CAPTURED
        currency = str(intent.get("currency", "")).upper()
        amount = orderdesk_amount(int(intent.get("amount_received") or 0), currency)
    event = WebhookEvent(
        gateway="stripe",
        event_id=str(payload.get("id", "")),
        kind=kind,
        change=change,
        reference=str(intent.get("id", "")),
        amount=amount,
        order_reference=_stripe_order_named(intent),
    )
    if kind == "payment_intent.amount_capturable_updated":
        return _stripe_hold_renewed(event)
    return event


def _stripe_order_named(intent: dict) -> str:
    """The order an intent orderdesk made names in its metadata (with orderdesk's key)."""
    from orderdesk.payments.gateways.stripe_confirmed import (
        INTENT_METADATA_KEY,
        ORDER_METADATA_KEY,
    )

    metadata = intent.get("metadata") if isinstance(intent.get("metadata"), dict) else {}
    if not metadata.get(INTENT_METADATA_KEY):
        return ""
    return str(metadata.get(ORDER_METADATA_KEY, ""))[:100]


def _stripe_hold_renewed(event: WebhookEvent) -> WebhookEvent:
    """Stripe's word for a hold that grew or lasts longer (an incremental or extended
    authorization): `payment_intent.amount_capturable_updated`. The event's intent does
    not carry the charge's capture deadline, so Stripe is asked for the intent as it is
    now (outside any transaction), which also makes an old event tell the current truth."""
    from dataclasses import replace

    from orderdesk.payments.gateways.base import ResultStatus
    from orderdesk.payments.gateways.registry import get_gateway

    try:
        hold = get_gateway("stripe").lookup(reference=event.reference)
    except GatewayError as error:  # timeouts and outages included
        raise WebhookRetryLater(f"Stripe did not answer the look-up: {error}") from error
    if hold.status != ResultStatus.AUTHORIZED:
        return event  # no live hold there (any more): nothing to renew
    return replace(
        event, change=HoldChange.REAUTHORIZED, amount=hold.amount, expires_at=hold.expires_at
    )


# PayPal: the transmission is verified by PayPal itself (verify-webhook-signature).

_PAYPAL_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}


def _paypal_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise WebhookRefused("PAYPAL-TRANSMISSION-TIME is not a time") from error


def paypal_event_verify(headers, body: bytes) -> WebhookEvent:
    from orderdesk.payments.gateways.registry import get_gateway

    webhook_id = setting("ORDERDESK_PAYPAL_WEBHOOK_ID", "")
    if not webhook_id:
        raise WebhookRefused("ORDERDESK_PAYPAL_WEBHOOK_ID is not set")
    fields = {name: headers.get(header, "") for name, header in _PAYPAL_HEADERS.items()}
    if not all(fields.values()):
        raise WebhookRefused("a PayPal transmission header is missing")
    sent = _paypal_time(fields["transmission_time"])
    if abs(time.time() - sent.timestamp()) > tolerance_seconds():
        raise WebhookRefused("the transmission time is outside the tolerance")
    payload = _json(body)
    verified = get_gateway("paypal").webhook_signature_verify(
        {**fields, "webhook_id": webhook_id, "webhook_event": payload}
    )
    if not verified:
        raise WebhookRefused("PayPal did not verify the transmission")
    resource = payload.get("resource") if isinstance(payload.get("resource"), dict) else {}
    kind = str(payload.get("event_type", ""))
    change, reference, amount = "", str(resource.get("id", "")), None
    if kind == "PAYMENT.AUTHORIZATION.VOIDED":
        expired = resource.get("status") == "EXPIRED"
        change = HoldChange.EXPIRED if expired else HoldChange.VOIDED
    elif kind == "PAYMENT.CAPTURE.COMPLETED":
        change = HoldChange.CAPTURED
        related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
        reference = str(related.get("authorization_id", ""))
        amount = _paypal_money(resource)
    event = WebhookEvent(
        gateway="paypal",
        event_id=str(payload.get("id", "")),
        kind=kind,
        change=change,
        reference=reference,
        amount=amount,
    )
    if kind == "PAYMENT.AUTHORIZATION.CREATED" and resource.get("status") == "CREATED":
        return _paypal_hold_renewed(event, resource)
    return event


def _paypal_money(resource: dict) -> int | None:
    money = resource.get("amount") if isinstance(resource.get("amount"), dict) else {}
    if not money.get("value"):
        return None
    try:
        return minor_units(str(money["value"]), str(money.get("currency_code", "")))
    except (ArithmeticError, GatewayError):
        return None


def _paypal_hold_renewed(event: WebhookEvent, resource: dict) -> WebhookEvent:
    """A new authorization: a reauthorization when it renews a hold orderdesk keeps (a new
    id for the same PayPal order, or its `up` link naming the earlier authorization); the
    creation of a hold orderdesk made itself changes nothing."""
    from dataclasses import replace

    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    parent = ""
    for link in resource.get("links") or []:
        href = str(link.get("href", "")) if isinstance(link, dict) else ""
        if href and link.get("rel") == "up" and "/authorizations/" in href:
            parent = href.rstrip("/").rsplit("/", 1)[1]
    return replace(
        event,
        change=HoldChange.REAUTHORIZED,
        amount=_paypal_money(resource),
        expires_at=_paypal_expiry(resource.get("expiration_time")),
        renews_reference=parent,
        renews_order=str(related.get("order_id", "")),
    )


def _paypal_expiry(text) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


VERIFIERS = {
    "sandbox": sandbox_event_verify,
    "stripe": stripe_event_verify,
    "paypal": paypal_event_verify,
}


def webhook_event_verify(gateway: str, headers, body: bytes) -> WebhookEvent:
    """The proven event, or WebhookRefused (an unknown or unconfigured gateway included)."""
    from orderdesk.payments.gateways.registry import gateway_names_configured

    verifier = VERIFIERS.get(gateway)
    if verifier is None or gateway not in gateway_names_configured():
        raise WebhookRefused(f"no webhooks for gateway {gateway!r} here")
    event = verifier(headers, body)
    if not event.event_id:
        raise WebhookRefused("the event has no id")
    return event
