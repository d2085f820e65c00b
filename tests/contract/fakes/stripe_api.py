"""A fake of Stripe's PaymentIntents API (v1), written from Stripe's public API reference.

It covers what orderdesk uses: create-and-confirm with manual capture, create for Stripe.js
to confirm in the browser (with the publishable key and the client secret, as Stripe.js
does; the fake serves a stand-in of Stripe.js and of the Payment Element's frame), retrieve, capture
(`amount_to_capture`), cancel, and search by metadata, with `expand` of `latest_charge`.
Like Stripe it checks the secret key (Bearer), replays a POST repeated with the same
`Idempotency-Key` and the same parameters (header `Idempotent-Replayed: true`), answers
400 `idempotency_error` to the same key with other parameters, and declines with 402
`card_error` for Stripe's test PaymentMethods (pm_card_chargeDeclined...).
"""

from __future__ import annotations

import re
import secrets
import time
from contextlib import contextmanager
from urllib.parse import parse_qsl

from tests.contract.fakes.gateway_http import FakeGateway, Request, browser_file

SECRET_KEY = "sk_test_orderdesk_fake"
PUBLISHABLE_KEY = "pk_test_orderdesk_fake"
# Stripe's test card numbers, as typed into the Payment Element: the PaymentMethod each makes.
TEST_CARDS = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000000000000119": "pm_card_chargeDeclinedProcessingError",
}
# The stand-in of Stripe.js (js.stripe.com/v3/) and of the Payment Element's frame.
BROWSER_FILES = {
    "/v3/": ("stripe.js", "text/javascript"),
    "/elements/payment": ("stripe-element.html", "text/html; charset=utf-8"),
}
CAPTURE_WINDOW_SECONDS = 7 * 24 * 3600
# Stripe's test PaymentMethods: brand, last4, and (code, decline_code, message) if declined.
PAYMENT_METHODS = {
    "pm_card_visa": ("visa", "4242", None),
    "pm_card_mastercard": ("mastercard", "4444", None),
    "pm_card_amex": ("amex", "8431", None),
    "pm_card_chargeDeclined": (
        "visa",
        "0002",
        ("card_declined", "generic_decline", "Your card was declined."),
    ),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "visa",
        "9995",
        ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ),
    "pm_card_chargeDeclinedProcessingError": (
        "visa",
        "0119",
        ("processing_error", None, "An error occurred while processing your card."),
    ),
}
_SEARCH = re.compile(r"^metadata\['(?P<key>[^']+)'\]:'(?P<value>(?:[^'\\]|\\.)*)'$")


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _charge(intent: dict, brand: str, last4: str, failure, now: int) -> dict:
    return {
        "id": intent["latest_charge"],
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": 0,
        "captured": False,
        "currency": intent["currency"],
        "payment_intent": intent["id"],
        "status": "failed" if failure else "succeeded",
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": brand,
                "last4": last4,
                "exp_month": 12,
                "exp_year": 2034,
                "network": brand,
                "capture_before": None if failure else now + CAPTURE_WINDOW_SECONDS,
                "extended_authorization": {"status": "disabled"},
                "incremental_authorization": {"status": "unavailable"},
            },
        },
    }


def _error(status: int, type_: str, message: str, **extra) -> tuple[int, dict, dict]:
    return status, {}, {"error": {"type": type_, "message": message, **extra}}


class FakeStripe(FakeGateway):
    def __init__(self):
        super().__init__()
        self.intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self._idempotency: dict[str, tuple] = {}

    def error_body(self, status):
        return {"error": {"type": "api_error", "message": f"fake Stripe answered {status}"}}

    # -- plumbing --------------------------------------------------------------------------

    def handle(self, request: Request):
        if request.method == "GET" and request.path in BROWSER_FILES:
            return browser_file(*BROWSER_FILES[request.path])
        if request.method == "POST" and request.path.endswith("/confirm"):
            return self._route(request, parse_qsl(request.body.decode(), keep_blank_values=True))
        if request.header("authorization") != f"Bearer {SECRET_KEY}":
            return _error(401, "invalid_request_error", "Invalid API Key provided")
        params = parse_qsl(request.body.decode(), keep_blank_values=True)
        if request.method == "GET":
            params = request.query
        if request.method != "POST":
            return self._route(request, params)
        key = request.header("idempotency-key")
        if not key:
            return _error(400, "invalid_request_error", "this fake wants an Idempotency-Key")
        fingerprint = (request.path, sorted(params))
        if key in self._idempotency:
            earlier, status, body = self._idempotency[key]
            if earlier != fingerprint:
                return _error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                )
            return status, {"Idempotent-Replayed": "true"}, body
        status, headers, body = self._route(request, params)
        if status not in (400, 401, 404):  # Stripe saves no result for a request it refused
            self._idempotency[key] = (fingerprint, status, body)
        return status, {**headers, "Idempotency-Key": key}, body

    def _route(self, request: Request, params):
        parts = request.path.strip("/").split("/")
        values = dict(params)
        expand = [value for name, value in params if name.startswith("expand[")]
        if parts[:2] != ["v1", "payment_intents"]:
            return _error(
                404, "invalid_request_error", f"Unrecognized request URL ({request.path})"
            )
        if request.method == "POST" and len(parts) == 2:
            return self._create(values, expand)
        if request.method == "GET" and parts[2:] == ["search"]:
            return self._search(values, expand)
        intent = self.intents.get(parts[2]) if len(parts) > 2 else None
        if intent is None:
            return _error(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{parts[2] if len(parts) > 2 else ''}'",
                code="resource_missing",
                param="intent",
            )
        if request.method == "GET" and len(parts) == 3:
            return 200, {}, self._view(intent, expand)
        if request.method == "POST" and parts[3:] == ["capture"]:
            return self._capture(intent, values, expand)
        if request.method == "POST" and parts[3:] == ["confirm"]:
            return self._browser_confirm(intent, values)
        if request.method == "POST" and parts[3:] == ["cancel"]:
            return self._cancel(intent, values, expand)
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({request.path})")

    def _view(self, intent: dict, expand) -> dict:
        view = dict(intent)
        charge = self.charges.get(intent["latest_charge"] or "")
        if charge and any(e in ("latest_charge", "data.latest_charge") for e in expand):
            view["latest_charge"] = dict(charge)
        return view

    # -- endpoints -------------------------------------------------------------------------

    def _create(self, values: dict, expand):
        amount, currency = values.get("amount", ""), values.get("currency", "")
        if not amount.isdigit() or int(amount) < 1:
            return _error(400, "invalid_request_error", "Invalid integer: amount", param="amount")
        if not re.fullmatch(r"[a-z]{3}", currency):
            return _error(400, "invalid_request_error", "Invalid currency", param="currency")
        if values.get("capture_method") != "manual":
            return _error(400, "invalid_request_error", "this fake only authorizes (manual)")
        if values.get("confirm") != "true":  # for Stripe.js to confirm in the browser
            intent = self._new_intent(int(amount), currency, values)
            return 200, {}, self._view(intent, expand)
        method = values.get("payment_method", "")
        if method not in PAYMENT_METHODS:
            return _error(
                400,
                "invalid_request_error",
                f"No such PaymentMethod: '{method}'",
                code="resource_missing",
                param="payment_method",
            )
        return self._attempt(self._new_intent(int(amount), currency, values), method, expand)

    def _new_intent(self, amount: int, currency: str, values: dict) -> dict:
        intent_id = _id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": "manual",
            "canceled_at": None,
            "cancellation_reason": None,
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "created": int(time.time()),
            "currency": currency,
            "description": values.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": {
                name[len("metadata[") : -1]: value
                for name, value in values.items()
                if name.startswith("metadata[")
            },
            "payment_method": None,
            "status": "requires_payment_method",
        }
        self.intents[intent_id] = intent
        return intent

    def _attempt(self, intent: dict, method: str, expand):
        """Confirm the intent with a PaymentMethod: a hold, or a decline (402)."""
        brand, last4, failure = PAYMENT_METHODS[method]
        now = int(time.time())
        intent.update(
            amount_capturable=0 if failure else intent["amount"],
            latest_charge=_id("ch"),
            payment_method=method,
            status="requires_payment_method" if failure else "requires_capture",
            last_payment_error=None,
        )
        self.charges[intent["latest_charge"]] = _charge(intent, brand, last4, failure, now)
        if failure:
            code, decline_code, message = failure
            error = {"type": "card_error", "code": code, "message": message}
            if decline_code:
                error["decline_code"] = decline_code
            intent["last_payment_error"] = dict(error)
            return 402, {}, {"error": {**error, "payment_intent": self._view(intent, expand)}}
        return 200, {}, self._view(intent, expand)

    def _browser_confirm(self, intent: dict, values: dict):
        """Stripe.js's confirmation with the publishable key and the client secret; the card
        number is read from the request and never kept (only brand and last 4)."""
        if values.get("key") != PUBLISHABLE_KEY:
            return _error(401, "invalid_request_error", "Invalid API Key provided")
        if values.get("client_secret") != intent["client_secret"]:
            return _error(400, "invalid_request_error", "The client_secret does not match")
        if intent["status"] != "requires_payment_method":
            return _error(
                400,
                "invalid_request_error",
                f"This PaymentIntent's status is {intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        number = values.get("payment_method_data[card][number]", "").replace(" ", "")
        if number not in TEST_CARDS:
            return _error(
                402, "card_error", "Your card number is incorrect.", code="incorrect_number"
            )
        return self._attempt(intent, TEST_CARDS[number], [])

    def _capture(self, intent: dict, values: dict, expand):
        if intent["status"] != "requires_capture":
            return _error(
                400,
                "invalid_request_error",
                "This PaymentIntent could not be captured because it has a status of "
                f"{intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        amount = int(values.get("amount_to_capture") or intent["amount_capturable"])
        if amount > intent["amount_capturable"]:
            return _error(
                400,
                "invalid_request_error",
                "The amount to capture is greater than the amount capturable.",
                code="amount_too_large",
                param="amount_to_capture",
            )
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.charges[intent["latest_charge"]].update(captured=True, amount_captured=amount)
        return 200, {}, self._view(intent, expand)

    def _cancel(self, intent: dict, values: dict, expand):
        if intent["status"] in ("succeeded", "canceled", "processing"):
            return _error(
                400,
                "invalid_request_error",
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(
            status="canceled",
            amount_capturable=0,
            canceled_at=int(time.time()),
            cancellation_reason=values.get("cancellation_reason") or "requested_by_customer",
        )
        return 200, {}, self._view(intent, expand)

    def _search(self, values: dict, expand):
        match = _SEARCH.match(values.get("query", ""))
        if not match:
            return _error(400, "invalid_request_error", "this fake searches metadata only")
        wanted = re.sub(r"\\(.)", r"\1", match["value"])
        found = [
            self._view(intent, expand)
            for intent in self.intents.values()
            if intent["metadata"].get(match["key"]) == wanted
        ]
        return (
            200,
            {},
            {
                "object": "search_result",
                "data": found,
                "has_more": False,
                "next_page": None,
                "url": "/v1/payment_intents/search",
            },
        )


@contextmanager
def stripe_serving(settings, **overrides):
    """The fake running, with orderdesk's Stripe settings pointed at it (its API and its
    stand-in of Stripe.js), and any setting given as `NAME=value` on top."""
    server = FakeStripe().start()
    settings.ORDERDESK_STRIPE_SECRET_KEY = SECRET_KEY
    settings.ORDERDESK_STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.ORDERDESK_STRIPE_API_BASE = server.url
    settings.ORDERDESK_STRIPE_JS_URL = f"{server.url}/v3/"
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    for name, value in overrides.items():
        setattr(settings, name, value)
    try:
        yield server
    finally:
        server.stop()
