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
    amount: int | None = None  # captured amount, in minor units
    expires_at: datetime | None = None  # after a reauthorization


class WebhookRefused(Exception):
    """The request is not a genuine, current event from the gateway."""


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
    return WebhookEvent(
        gateway="stripe",
        event_id=str(payload.get("id", "")),
        kind=kind,
        change=change,
        reference=str(intent.get("id", "")),
        amount=amount,
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
        money = resource.get("amount") or {}
        amount = minor_units(str(money.get("value", "0")), str(money.get("currency_code", "")))
    return WebhookEvent(
        gateway="paypal",
        event_id=str(payload.get("id", "")),
        kind=kind,
        change=change,
        reference=reference,
        amount=amount,
    )


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
