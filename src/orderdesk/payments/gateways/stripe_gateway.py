"""Stripe, through its own Python library: PaymentIntents with manual capture.

authorize creates and confirms a PaymentIntent in one call (`capture_method=manual`) with the
PaymentMethod id that Stripe.js tokenized (`pm_...`); capture and void are the intent's
capture and cancel. Every call carries orderdesk's idempotency key, and the key of the
authorization is also kept in the intent's metadata so that `fetch` can find it later.

`fetch` uses Stripe's search, which is eventually consistent ("searchable in less than a
minute"): the service layer reconciles an unknown outcome only after a minute has passed.

The card's own capture deadline (`capture_before` on the charge) is reported as the
authorization's expiry, so it wins over any configured policy.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import stripe

from orderdesk.common.money import currency_exponent
from orderdesk.payments.gateways import stripe_confirmed
from orderdesk.payments.gateways.base import (
    Capability,
    GatewayError,
    GatewayResult,
    GatewayTimeout,
    GatewayUnavailable,
    ResultStatus,
)
from orderdesk.payments.gateways.transport import (
    network_retries,
    setting,
    timeout_seconds,
    transport_error,
)

METADATA_KEY = "orderdesk_idempotency_key"
# Stripe's own decimals where they differ from ISO 4217 (ISK is sent as a two-decimal amount).
_STRIPE_EXPONENTS = {"ISK": 2}
_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "Amex",
    "discover": "Discover",
    "diners": "Diners",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}
# Card errors that are the processor's fault rather than the card's: retrying later may work.
_ERROR_CODES = {"processing_error", "issuer_not_available", "try_again_later"}


def stripe_amount(amount: int, currency: str) -> int:
    shift = _STRIPE_EXPONENTS.get(currency.upper(), currency_exponent(currency)) - (
        currency_exponent(currency)
    )
    return amount * 10**shift


def orderdesk_amount(amount: int, currency: str) -> int:
    shift = _STRIPE_EXPONENTS.get(currency.upper(), currency_exponent(currency)) - (
        currency_exponent(currency)
    )
    return amount // 10**shift


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=timezone.utc) if value else None


def _card(intent: dict) -> dict:
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        return {}
    return (charge.get("payment_method_details") or {}).get("card") or {}


def _intent_result(intent: dict, status: str, **extra) -> GatewayResult:
    card = _card(intent)
    currency = (intent.get("currency") or "").upper()
    fields = {
        "status": status,
        "reference": intent.get("id", ""),
        "amount": orderdesk_amount(intent.get("amount") or 0, currency) if currency else 0,
        "currency": currency,
        "card_brand": _BRANDS.get(card.get("brand", ""), (card.get("brand") or "").title()),
        "card_last4": card.get("last4") or "",
        "raw": {"id": intent.get("id"), "status": intent.get("status")},
    }
    if status == ResultStatus.AUTHORIZED:
        fields["expires_at"] = _timestamp(card.get("capture_before"))
    fields.update(extra)
    return GatewayResult(**fields)


def _declined(error_body: dict, status: str = "") -> GatewayResult:
    """A card or request error: what Stripe said, never the card details."""
    code = error_body.get("decline_code") or error_body.get("code") or "declined"
    intent = error_body.get("payment_intent") or {}
    if not status:
        status = ResultStatus.ERROR if code in _ERROR_CODES else ResultStatus.DECLINED
    return GatewayResult(
        status=status,
        reference=intent.get("id", "") if isinstance(intent, dict) else "",
        decline_code=code,
        message=error_body.get("message") or code.replace("_", " "),
    )


def _intent_outcome(intent: dict) -> GatewayResult:
    """Map a PaymentIntent's status to what orderdesk records."""
    status = intent.get("status")
    charge = intent.get("latest_charge") if isinstance(intent.get("latest_charge"), dict) else {}
    if status == "requires_capture":
        return _intent_result(intent, ResultStatus.AUTHORIZED)
    if status == "succeeded":
        return _intent_result(intent, ResultStatus.CAPTURED)
    if status == "canceled" and charge.get("status") == "succeeded":
        return _intent_result(intent, ResultStatus.VOIDED)
    if status == "processing":
        raise GatewayTimeout("Stripe is still processing the payment; the outcome is not known yet")
    if status == "requires_action":
        return _intent_result(
            intent,
            ResultStatus.DECLINED,
            decline_code="authentication_required",
            message="The card issuer asks the customer to authenticate (3-D Secure)",
        )
    error = intent.get("last_payment_error") or {}
    result = _declined(error) if error else None
    return _intent_result(
        intent,
        result.status if result else ResultStatus.DECLINED,
        decline_code=result.decline_code if result else (status or "declined"),
        message=result.message if result else f"payment intent {status}",
    )


def _hold_outcome(intent: dict) -> GatewayResult:
    """A hold as it stands: captured for `amount_received`; cancelled by Stripe itself
    (`cancellation_reason` automatic: an uncaptured intent past its validity) is expired."""
    currency = (intent.get("currency") or "").upper()
    if intent.get("status") == "succeeded":
        received = orderdesk_amount(intent.get("amount_received") or 0, currency)
        return _intent_result(intent, ResultStatus.CAPTURED, amount=received)
    if intent.get("status") == "canceled" and intent.get("cancellation_reason") == "automatic":
        return _intent_result(intent, ResultStatus.EXPIRED)
    return _intent_outcome(intent)


def _search_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class StripeGateway:
    name = "stripe"
    capabilities = frozenset({Capability.BROWSER_CONFIRMATION})

    def __init__(self):
        self._clients: dict[tuple, stripe.StripeClient] = {}
        self._lock = threading.Lock()

    def _client(self) -> stripe.StripeClient:
        secret = setting("ORDERDESK_STRIPE_SECRET_KEY", "")
        if not secret:
            raise GatewayError("ORDERDESK_STRIPE_SECRET_KEY is not set")
        base = setting("ORDERDESK_STRIPE_API_BASE", "") or stripe.DEFAULT_API_BASE
        config = (secret, base.rstrip("/"), timeout_seconds(), network_retries())
        with self._lock:
            if config not in self._clients:
                self._clients[config] = stripe.StripeClient(
                    secret,
                    base_addresses={"api": config[1]},
                    http_client=stripe.RequestsClient(timeout=config[2]),
                    max_network_retries=config[3],
                )
            return self._clients[config]

    def _call(self, operation, *args, **kwargs):
        """Run one library call; translate transport failures, let API errors through."""
        try:
            return operation(*args, **kwargs).to_dict()
        except stripe.APIConnectionError as error:
            raise transport_error(error, "Stripe") from error
        except stripe.RateLimitError as error:
            raise GatewayUnavailable("Stripe is rate limiting requests; retry later") from error
        except stripe.APIError as error:
            # Stripe documents a 500 as indeterminate; a 503 means it did not act.
            if error.http_status == 503:
                raise GatewayUnavailable("Stripe answered 503") from error
            raise GatewayTimeout(
                f"Stripe answered {error.http_status}; the outcome is unknown"
            ) from error

    def authorize(self, *, amount, currency, payment_token, idempotency_key, order_reference):
        """A PaymentIntent confirmed in the browser (`pi_`: read back and checked), or a
        PaymentMethod (`pm_`: a PaymentIntent created and confirmed here)."""
        if payment_token.startswith("pi_"):
            return stripe_confirmed.confirmed_intent_check(
                self,
                reference=payment_token,
                amount=amount,
                currency=currency,
                order_reference=order_reference,
                idempotency_key=idempotency_key,
            )
        return self._authorize_payment_method(
            amount=amount,
            currency=currency,
            payment_token=payment_token,
            idempotency_key=idempotency_key,
            order_reference=order_reference,
        )

    def _authorize_payment_method(
        self, *, amount, currency, payment_token, idempotency_key, order_reference
    ):
        if not payment_token.startswith("pm_"):
            return GatewayResult(
                status=ResultStatus.DECLINED,
                decline_code="invalid_token",
                message="Not a Stripe PaymentMethod id",
            )
        params = _confirmed_intent_params(
            amount=amount,
            currency=currency,
            payment_token=payment_token,
            idempotency_key=idempotency_key,
            order_reference=order_reference,
        )
        try:
            intent = self._call(
                self._client().v1.payment_intents.create,
                params,
                {"idempotency_key": idempotency_key},
            )
        except (GatewayTimeout, GatewayUnavailable):
            raise
        except GatewayError as error:
            return GatewayResult(
                status=ResultStatus.ERROR, decline_code="gateway_not_configured", message=str(error)
            )
        except stripe.StripeError as error:
            # A decline, or a request Stripe refused: a final answer, so nothing stays pending.
            body = (error.json_body or {}).get("error") or {"message": str(error)}
            if isinstance(error, stripe.CardError):
                return _declined(body)
            if isinstance(error, stripe.InvalidRequestError):
                return _declined(body, ResultStatus.DECLINED)
            return _declined(body, ResultStatus.ERROR)
        return _intent_outcome(intent)

    def capture(self, *, reference, amount, currency, idempotency_key):
        payments = self._client().v1.payment_intents
        try:
            intent = self._call(
                payments.capture,
                reference,
                {"amount_to_capture": stripe_amount(amount, currency), "expand": ["latest_charge"]},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            body = (error.json_body or {}).get("error") or {"message": str(error)}
            if body.get("code") == "payment_intent_unexpected_state":
                intent = self._call(payments.retrieve, reference, {"expand": ["latest_charge"]})
                received = orderdesk_amount(intent.get("amount_received") or 0, currency)
                if intent.get("status") == "succeeded" and received == amount:
                    return _intent_result(intent, ResultStatus.CAPTURED)  # captured before
            return _declined(body, ResultStatus.DECLINED)
        if intent.get("status") != "succeeded":
            return _intent_outcome(intent)
        return _intent_result(intent, ResultStatus.CAPTURED)

    def void(self, *, reference, idempotency_key):
        payments = self._client().v1.payment_intents
        try:
            intent = self._call(
                payments.cancel,
                reference,
                {"cancellation_reason": "requested_by_customer", "expand": ["latest_charge"]},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            body = (error.json_body or {}).get("error") or {"message": str(error)}
            if body.get("code") == "payment_intent_unexpected_state":
                intent = self._call(payments.retrieve, reference)
                if intent.get("status") == "canceled":
                    return _intent_result(intent, ResultStatus.VOIDED)  # voided before
            return _declined(body, ResultStatus.DECLINED)
        return _intent_result(intent, ResultStatus.VOIDED)

    def lookup(self, *, reference: str, idempotency_key: str = "") -> GatewayResult:
        """A PaymentIntent by its id, as it stands: a storefront's hold, or one whose capture
        or cancel orderdesk needs to settle (the intent is the capture's record too)."""
        if not reference.startswith("pi_"):
            return GatewayResult(status=ResultStatus.NOT_FOUND, reference=reference)
        try:
            intent = self._call(
                self._client().v1.payment_intents.retrieve,
                reference,
                {"expand": ["latest_charge"]},
            )
        except stripe.InvalidRequestError:
            return GatewayResult(status=ResultStatus.NOT_FOUND, reference=reference)
        return _hold_outcome(intent)

    def intent_create(self, *, amount, currency, idempotency_key, order_reference, source=""):
        """A PaymentIntent for Stripe.js to confirm in the browser (manual capture)."""
        return stripe_confirmed.intent_create(
            self,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
            order_reference=order_reference,
            source=source,
        )

    def intent_read(self, *, reference):
        """A PaymentIntent orderdesk made for the browser, as it stands, with what its
        metadata says of it; None for an intent Stripe does not know or orderdesk did not make."""
        return stripe_confirmed.intent_read(self, reference)

    def token_reference(self, payment_token):
        return payment_token if payment_token.startswith(("pm_", "pi_")) else ""

    def fetch(self, *, idempotency_key, reference=""):
        if reference.startswith("pi_"):
            return stripe_confirmed.intent_fetch(self, reference)
        found = self._call(
            self._client().v1.payment_intents.search,
            {
                "query": f"metadata[{_search_literal(METADATA_KEY)}]:{_search_literal(idempotency_key)}",
                "expand": ["data.latest_charge"],
            },
        )
        intents = found.get("data") or []
        if not intents:
            return GatewayResult(status=ResultStatus.NOT_FOUND)
        return _intent_outcome(intents[0])


def _confirmed_intent_params(*, amount, currency, payment_token, idempotency_key, order_reference):
    """A PaymentIntent confirmed at once on the server with a PaymentMethod, held (manual
    capture) for the order; the idempotency key in its metadata lets reconciliation find it."""
    return {
        "amount": stripe_amount(amount, currency),
        "currency": currency.lower(),
        "payment_method": payment_token,
        "payment_method_types": ["card"],
        "capture_method": "manual",
        "confirm": True,
        "description": f"Order {order_reference}",
        "metadata": {METADATA_KEY: idempotency_key, "orderdesk_order": order_reference},
        "expand": ["latest_charge"],
    }
