"""A fake of PayPal's REST APIs that orderdesk uses, written from PayPal's public reference:
OAuth2 client credentials, Orders v2 (create, show, authorize) and Payments v2
authorizations (show, capture, void, reauthorize), and Webhooks' verify-webhook-signature.

Like PayPal it checks the Basic credentials and Bearer tokens (which expire), answers a
POST repeated with the same `PayPal-Request-Id` with the original result, refuses a
request id reused for another request (422 PAYPAL_REQUEST_ID_PREVIOUSLY_USED), validates
amounts as decimal strings, authorizes only approved orders, and keeps PayPal's periods:
an authorization expires after 29 days and can be reauthorized only after the 3-day
honor period. Stricter than PayPal in one way: a POST that moves money without a
`PayPal-Request-Id` is refused, so a test notices an adapter that forgets it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import zlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from tests.contract.fakes.gateway_http import FakeGateway, Request, browser_file

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"
AUTHORIZATION_DAYS = 29
HONOR_DAYS = 3
_VALUE = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")
_DECIMALS = {"JPY": 0, "HUF": 0, "TWD": 0}


def _paypal_id() -> str:
    return secrets.token_hex(9).upper()[:17]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _issue(status: int, name: str, issue: str, description: str) -> tuple[int, dict, dict]:
    return (
        status,
        {},
        {
            "name": name,
            "message": "The requested action could not be performed, semantically incorrect, "
            "or failed business validation.",
            "details": [{"issue": issue, "description": description}],
            "debug_id": secrets.token_hex(6),
        },
    )


def _unprocessable(issue: str, description: str):
    return _issue(422, "UNPROCESSABLE_ENTITY", issue, description)


# Stand-ins of the JS SDK (www.paypal.com/sdk/js) and of the payer's approval page.
BROWSER_FILES = {
    "/sdk/js": ("paypal-sdk.js", "text/javascript"),
    "/checkoutnow": ("paypal-approve.html", "text/html; charset=utf-8"),
}


class FakePayPal(FakeGateway):
    token_lifetime = 32400

    def __init__(self):
        super().__init__()
        self.orders: dict[str, dict] = {}
        self.authorizations: dict[str, dict] = {}
        self.tokens: dict[str, datetime] = {}
        self.token_requests = 0
        self.declined_orders: set[str] = set()
        self.offset = timedelta(0)
        self._requests: dict[str, tuple] = {}
        self._signing_key = secrets.token_bytes(32)

    def now(self) -> datetime:
        return datetime.now(timezone.utc).replace(microsecond=0) + self.offset

    def error_body(self, status):
        name = "INTERNAL_SERVER_ERROR" if status == 500 else "SERVICE_UNAVAILABLE"
        return {"name": name, "message": f"fake PayPal answered {status}"}

    # -- test controls (what the payer does on PayPal's pages) ------------------------------

    def approve(self, order_id: str, payer_email: str = "buyer@example.com") -> None:
        with self.lock:
            order = self.orders[order_id]
            order["status"] = "APPROVED"
            order["payment_source"] = {"paypal": {"email_address": payer_email}}
            order["payer"] = {"email_address": payer_email, "payer_id": _paypal_id()[:13]}

    def decline_funding(self, order_id: str) -> None:
        """The payer's funding instrument will be declined when the order is authorized."""
        self.approve(order_id)
        self.declined_orders.add(order_id)

    def webhook_headers(self, event: dict, webhook_id: str, *, sent: datetime | None = None):
        """The transmission headers PayPal sends with a webhook event to that webhook.

        PayPal signs `transmission id|time|webhook id|CRC32 of the body` with its
        certificate; the fake signs the same string with a key of its own, so only
        verify-webhook-signature can tell whether a transmission is genuine."""
        transmission_id = secrets.token_hex(16)
        moment = (sent or self.now()).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-fake",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": moment,
            "PAYPAL-TRANSMISSION-SIG": self._transmission_signature(
                transmission_id, moment, webhook_id, event
            ),
        }

    def _transmission_signature(self, transmission_id, moment, webhook_id, event) -> str:
        crc = zlib.crc32(json.dumps(event, sort_keys=True).encode())
        message = f"{transmission_id}|{moment}|{webhook_id}|{crc}".encode()
        return base64.b64encode(
            hmac.new(self._signing_key, message, hashlib.sha256).digest()
        ).decode()

    def _verify_webhook(self, body: dict):
        fields = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
            "webhook_event",
        )
        if any(not body.get(name) for name in fields):
            return _issue(400, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER", "fake: field")
        expected = self._transmission_signature(
            body["transmission_id"],
            body["transmission_time"],
            body["webhook_id"],
            body["webhook_event"],
        )
        genuine = hmac.compare_digest(expected, str(body["transmission_sig"]))
        return 200, {}, {"verification_status": "SUCCESS" if genuine else "FAILURE"}

    def _browser(self, request: Request):
        """The SDK (for orderdesk's client id only), the approval page, and its approve click."""
        query = dict(request.query)
        if request.path == "/sdk/js" and query.get("client-id") != CLIENT_ID:
            return 400, {}, {"name": "INVALID_CLIENT_ID", "message": "fake: unknown client-id"}
        if request.path in BROWSER_FILES:
            return browser_file(*BROWSER_FILES[request.path])
        if request.method != "POST" or query.get("token") not in self.orders:
            return 404, {}, {"name": "RESOURCE_NOT_FOUND", "message": "fake: no such order"}
        self.approve(query["token"])
        return 200, {}, {"id": query["token"], "status": "APPROVED"}

    # -- plumbing --------------------------------------------------------------------------

    def handle(self, request: Request):
        if request.path == "/v1/oauth2/token":
            return self._token(request)
        if request.path in BROWSER_FILES or request.path == "/checkoutnow/approve":
            return self._browser(request)
        token = request.header("authorization").removeprefix("Bearer ")
        if self.tokens.get(token, self.now()) <= self.now():
            return 401, {}, {"error": "invalid_token", "error_description": "Token expired"}
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _issue(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", "Malformed JSON")
        if request.method != "POST":
            return self._route(request, body)
        request_id = request.header("paypal-request-id")
        if request.path == "/v1/notifications/verify-webhook-signature":
            return self._verify_webhook(body)
        if not request_id:
            if request.path != "/v2/checkout/orders":
                return _issue(400, "INVALID_REQUEST", "MISSING_REQUEST_ID", "fake: send one")
            return self._route(request, body)
        fingerprint = (request.path, json.dumps(body, sort_keys=True))
        if request_id in self._requests:
            earlier, status, answer = self._requests[request_id]
            if earlier != fingerprint:
                return _unprocessable(
                    "PAYPAL_REQUEST_ID_PREVIOUSLY_USED",
                    "The PayPal-Request-ID has already been used for another request.",
                )
            return status, {}, answer
        status, headers, answer = self._route(request, body)
        if status < 500:
            self._requests[request_id] = (fingerprint, status, answer)
        return status, headers, answer

    def _token(self, request: Request):
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.header("authorization") != f"Basic {expected}":
            return (
                401,
                {},
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
            )
        if request.body.decode() != "grant_type=client_credentials":
            return 400, {}, {"error": "unsupported_grant_type"}
        self.token_requests += 1
        token = "A21AA" + secrets.token_urlsafe(24)
        self.tokens[token] = self.now() + timedelta(seconds=self.token_lifetime)
        return (
            200,
            {},
            {
                "scope": "https://uri.paypal.com/services/payments/payment/authcapture",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-FAKE",
                "expires_in": self.token_lifetime,
                "nonce": secrets.token_hex(8),
            },
        )

    def _route(self, request: Request, body: dict):
        parts = request.path.strip("/").split("/")
        if parts == ["v2", "checkout", "orders"] and request.method == "POST":
            return self._create_order(body)
        if parts[:3] == ["v2", "checkout", "orders"] and len(parts) >= 4:
            order = self.orders.get(parts[3])
            if order is None:
                return _issue(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Order not found")
            if len(parts) == 4 and request.method == "GET":
                return 200, {}, order
            if parts[4:] == ["authorize"] and request.method == "POST":
                return self._authorize(order)
        if parts[:3] == ["v2", "payments", "authorizations"] and len(parts) >= 4:
            authorization = self.authorizations.get(parts[3])
            if authorization is None:
                return _issue(
                    404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Authorization not found"
                )
            self._lapse(authorization)
            action = parts[4] if len(parts) > 4 else ""
            if not action and request.method == "GET":
                return 200, {}, authorization
            if action == "capture":
                return self._capture(authorization, body)
            if action == "void":
                return self._void(authorization, request)
            if action == "reauthorize":
                return self._reauthorize(authorization, body)
        return _issue(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "No such resource")

    def _money(self, amount: dict, *, currency: str | None = None):
        """The amount as a Decimal, or an error answer."""
        code, value = (amount or {}).get("currency_code", ""), (amount or {}).get("value", "")
        if not re.fullmatch(r"[A-Z]{3}", code) or not _VALUE.match(str(value)):
            return None, _issue(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "bad amount")
        if currency and code != currency:
            return None, _unprocessable("CURRENCY_MISMATCH", "Currency differs from the order")
        decimals = len(value.partition(".")[2])
        if decimals > _DECIMALS.get(code, 2):
            return None, _unprocessable("DECIMAL_PRECISION", f"{code} takes fewer decimals")
        return Decimal(value), None

    def _lapse(self, authorization: dict) -> None:
        expires = datetime.fromisoformat(authorization["expiration_time"].replace("Z", "+00:00"))
        if authorization["status"] == "CREATED" and self.now() >= expires:
            authorization["status"] = "EXPIRED"

    # -- endpoints -------------------------------------------------------------------------

    def _create_order(self, body: dict):
        units = body.get("purchase_units") or []
        if body.get("intent") != "AUTHORIZE" or len(units) != 1:
            return _issue(
                400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "fake: AUTHORIZE, 1 unit"
            )
        _, error = self._money(units[0].get("amount"))
        if error:
            return error
        context = ((body.get("payment_source") or {}).get("paypal") or {}).get(
            "experience_context"
        ) or {}
        if not context.get("return_url") or not context.get("cancel_url"):
            return _issue(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "return_url")
        order_id = _paypal_id()
        self.orders[order_id] = order = {
            "id": order_id,
            "intent": "AUTHORIZE",
            "status": "PAYER_ACTION_REQUIRED",
            "payment_source": {"paypal": {}},
            "purchase_units": [{"reference_id": "default", "amount": units[0]["amount"]}],
            "create_time": _stamp(self.now()),
            "links": [
                {
                    "href": f"{self.url}/v2/checkout/orders/{order_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{self.url}/checkoutnow?token={order_id}",
                    "rel": "payer-action",
                    "method": "GET",
                },
            ],
            "return_url": context["return_url"],
        }
        return 200, {}, order

    def _authorize(self, order: dict):
        if order["status"] == "COMPLETED":
            return _unprocessable("ORDER_ALREADY_AUTHORIZED", "Order already authorized.")
        if order["status"] != "APPROVED":
            return _unprocessable(
                "ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment."
            )
        if order["id"] in self.declined_orders:
            return _unprocessable(
                "INSTRUMENT_DECLINED",
                "The instrument presented was either declined by the processor or bank, "
                "or it can't be used for this payment.",
            )
        now = self.now()
        authorization = {
            "id": _paypal_id(),
            "status": "CREATED",
            "amount": dict(order["purchase_units"][0]["amount"]),
            "create_time": _stamp(now),
            "update_time": _stamp(now),
            "expiration_time": _stamp(now + timedelta(days=AUTHORIZATION_DAYS)),
            "original_create_time": _stamp(now),
            "seller_protection": {"status": "ELIGIBLE"},
            "supplementary_data": {"related_ids": {"order_id": order["id"]}},
            "reauthorized": False,
        }
        self.authorizations[authorization["id"]] = authorization
        order["status"] = "COMPLETED"
        order["purchase_units"][0]["payments"] = {"authorizations": [authorization]}
        return 201, {}, order

    def _capture(self, authorization: dict, body: dict):
        amount, error = self._money(
            body.get("amount"), currency=authorization["amount"]["currency_code"]
        )
        if error:
            return error
        issue = {
            "CAPTURED": "AUTHORIZATION_ALREADY_CAPTURED",
            "VOIDED": "AUTHORIZATION_VOIDED",
            "EXPIRED": "AUTHORIZATION_EXPIRED",
        }.get(authorization["status"])
        if issue:
            return _unprocessable(issue, f"Authorization is {authorization['status'].lower()}.")
        if amount > Decimal(authorization["amount"]["value"]):
            return _unprocessable(
                "MAX_CAPTURE_AMOUNT_EXCEEDED", "Capture exceeds the authorization."
            )
        final = body.get("final_capture", True)
        authorization["status"] = "CAPTURED" if final else "PARTIALLY_CAPTURED"
        authorization["update_time"] = _stamp(self.now())
        return (
            201,
            {},
            {
                "id": _paypal_id(),
                "status": "COMPLETED",
                "amount": body["amount"],
                "final_capture": final,
                "create_time": _stamp(self.now()),
            },
        )

    def _void(self, authorization: dict, request: Request):
        if authorization["status"] not in ("CREATED", "PARTIALLY_CAPTURED"):
            return _unprocessable(
                "AUTHORIZATION_ALREADY_" + authorization["status"],
                f"Authorization is {authorization['status'].lower()}.",
            )
        authorization["status"] = "VOIDED"
        authorization["update_time"] = _stamp(self.now())
        if "return=representation" in request.header("prefer"):
            return 200, {}, authorization
        return 204, {}, None

    def _reauthorize(self, authorization: dict, body: dict):
        created = datetime.fromisoformat(
            authorization["original_create_time"].replace("Z", "+00:00")
        )
        if authorization["status"] != "CREATED":
            return _unprocessable("AUTHORIZATION_" + authorization["status"], "Not reauthorizable.")
        if self.now() < created + timedelta(days=HONOR_DAYS):
            return _unprocessable(
                "CANNOT_REAUTH_INSIDE_HONOR_PERIOD",
                "Reauthorization is not allowed within the honor period.",
            )
        _, error = self._money(
            body.get("amount"), currency=authorization["amount"]["currency_code"]
        )
        if error:
            return error
        now = self.now()
        renewed = {
            **authorization,
            "id": _paypal_id(),
            "amount": body["amount"],
            "create_time": _stamp(now),
            "update_time": _stamp(now),
            "reauthorized": True,
        }
        self.authorizations[renewed["id"]] = renewed
        return 201, {}, renewed
