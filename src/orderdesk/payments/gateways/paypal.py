"""PayPal Orders v2 (intent AUTHORIZE) and Payments v2 authorizations, over plain HTTPS.

The customer approves an order on PayPal's page (`approval_start` creates it and returns
the approve link); `authorize` then authorizes the approved order, and capture, void and
reauthorize act on the authorization. Every POST carries a `PayPal-Request-Id`: PayPal
answers a repeat with the original result, so a retry after a lost response never
authorizes or captures twice. The authorization's own `expiration_time` is reported as its
expiry, so it wins over any configured policy.

PayPal cannot be searched by `PayPal-Request-Id`: to reconcile an unknown authorization,
`fetch` needs the PayPal order id. It remembers the order id of the authorizations this
process attempted, and takes it as `reference` when the caller knows it.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from datetime import datetime
from urllib.parse import quote

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from orderdesk.common.money import currency_exponent
from orderdesk.payments.gateways.base import (
    Capability,
    GatewayError,
    GatewayResult,
    GatewayTimeout,
    GatewayUnavailable,
    ResultStatus,
)
from orderdesk.payments.gateways.transport import (
    major_units,
    minor_units,
    network_retries,
    setting,
    timeout_seconds,
    transport_error,
)

SANDBOX_API_BASE = "https://api-m.sandbox.paypal.com"
TOKEN_PREFIX = "paypal:"
_ORDER_ID = re.compile(r"^[A-Z0-9]{1,36}$")
# PayPal takes these currencies without decimals.
_NO_DECIMALS = {"HUF", "JPY", "TWD"}
_TOKEN_MARGIN_SECONDS = 60
_JOURNAL_SIZE = 10_000


def paypal_value(amount: int, currency: str) -> str:
    """Minor units to PayPal's decimal string, exactly: 12345 USD -> '123.45'."""
    if currency.upper() in _NO_DECIMALS:
        whole, fraction = divmod(amount, 10 ** currency_exponent(currency))
        if fraction:
            raise GatewayError(f"PayPal takes {currency} only in whole units")
        return str(whole)
    return major_units(amount, currency)


def _amount(amount: int, currency: str) -> dict:
    return {"currency_code": currency.upper(), "value": paypal_value(amount, currency)}


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _issue(body: dict) -> tuple[str, str]:
    details = body.get("details") or [{}]
    issue = details[0].get("issue") or body.get("name") or "paypal_error"
    return issue.lower(), details[0].get("description") or body.get("message") or issue


class _ServerError(Exception):
    """A 5xx answer, retried like a lost response (PayPal may have acted)."""

    def __init__(self, response: requests.Response):
        super().__init__(response.status_code)
        self.response = response


class PayPalGateway:
    name = "paypal"
    capabilities = frozenset({Capability.PAYPAL_APPROVAL, Capability.REAUTHORIZE})

    def __init__(self):
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._journal: OrderedDict[str, str] = OrderedDict()  # request id -> order id
        self._lock = threading.Lock()
        self._local = threading.local()

    # -- transport -----------------------------------------------------------------------

    def _config(self) -> tuple[str, str, str]:
        client_id = setting("ORDERDESK_PAYPAL_CLIENT_ID", "")
        secret = setting("ORDERDESK_PAYPAL_CLIENT_SECRET", "")
        if not client_id or not secret:
            raise GatewayError(
                "ORDERDESK_PAYPAL_CLIENT_ID and ORDERDESK_PAYPAL_CLIENT_SECRET are not set"
            )
        base = (setting("ORDERDESK_PAYPAL_API_BASE", "") or SANDBOX_API_BASE).rstrip("/")
        return base, client_id, secret

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _access_token(self, base: str, client_id: str, secret: str) -> str:
        """A client-credentials token, cached until shortly before PayPal says it expires."""
        with self._lock:
            cached = self._tokens.get((base, client_id))
            if cached and cached[1] > time.monotonic():
                return cached[0]
        status, body = self._send(
            "POST",
            f"{base}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
            headers={"Accept": "application/json"},
            retry=True,
        )
        if status != 200 or "access_token" not in body:
            raise GatewayError(f"PayPal refused the API credentials ({status})")
        deadline = time.monotonic() + int(body.get("expires_in", 0)) - _TOKEN_MARGIN_SECONDS
        with self._lock:
            self._tokens[(base, client_id)] = (body["access_token"], deadline)
        return body["access_token"]

    def _send(self, method, url, *, retry, **kwargs) -> tuple[int, dict]:
        """One HTTP exchange, retried (with the same request id) after a lost request or a 5xx."""
        retrying = Retrying(
            stop=stop_after_attempt(1 + (network_retries() if retry else 0)),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception_type((requests.RequestException, _ServerError)),
            reraise=True,
        )
        try:
            response = retrying(self._request, method, url, **kwargs)
        except requests.RequestException as error:
            raise transport_error(error, "PayPal") from error
        except _ServerError as error:
            response = error.response
        if response.status_code in (429, 503):
            raise GatewayUnavailable(f"PayPal answered {response.status_code}")
        if response.status_code >= 500:
            raise GatewayTimeout(f"PayPal answered {response.status_code}; the outcome is unknown")
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        return response.status_code, body if isinstance(body, dict) else {}

    def _request(self, method, url, **kwargs) -> requests.Response:
        response = self._session().request(method, url, timeout=timeout_seconds(), **kwargs)
        if response.status_code >= 500:
            raise _ServerError(response)
        return response

    def _api(self, method: str, path: str, *, json=None, request_id: str = "") -> tuple[int, dict]:
        base, client_id, secret = self._config()
        headers = {"Content-Type": "application/json", "Prefer": "return=representation"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        for renewed in (False, True):
            headers["Authorization"] = f"Bearer {self._access_token(base, client_id, secret)}"
            status, body = self._send(
                method,
                f"{base}{path}",
                json=json,
                headers=headers,
                retry=bool(request_id) or method == "GET",
            )
            if status != 401 or renewed:
                return status, body
            with self._lock:  # the token was revoked or expired early: get a new one once
                self._tokens.pop((base, client_id), None)
        raise AssertionError("unreachable")

    def _remember(self, request_id: str, order_id: str) -> None:
        with self._lock:
            self._journal[request_id] = order_id
            self._journal.move_to_end(request_id)
            while len(self._journal) > _JOURNAL_SIZE:
                self._journal.popitem(last=False)

    # -- results -------------------------------------------------------------------------

    def _authorization_result(self, authorization: dict, order: dict | None = None):
        amount = authorization.get("amount") or {}
        currency = amount.get("currency_code", "")
        status = authorization.get("status", "")
        payer = ((order or {}).get("payment_source") or {}).get("paypal") or {}
        fields = {
            "reference": authorization.get("id", ""),
            "amount": minor_units(amount["value"], currency) if amount.get("value") else 0,
            "currency": currency,
            "payer_email": payer.get("email_address")
            or ((order or {}).get("payer") or {}).get("email_address", ""),
            "raw": {"id": authorization.get("id"), "status": status},
        }
        if status == "CREATED":
            expires_at = _parse_time(authorization.get("expiration_time"))
            return GatewayResult(status=ResultStatus.AUTHORIZED, expires_at=expires_at, **fields)
        if status in ("CAPTURED", "PARTIALLY_CAPTURED"):
            return GatewayResult(status=ResultStatus.CAPTURED, **fields)
        if status in ("VOIDED", "EXPIRED"):  # EXPIRED: past its validity and honor period
            return GatewayResult(status=getattr(ResultStatus, status), **fields)
        if status == "PENDING":
            raise GatewayTimeout(
                "PayPal holds the authorization as pending; the outcome is not final"
            )
        return GatewayResult(
            status=ResultStatus.DECLINED,
            decline_code=status.lower() or "declined",
            message=f"PayPal authorization {status.lower()}",
            **fields,
        )

    @staticmethod
    def _refused(body: dict, status: str = ResultStatus.DECLINED) -> GatewayResult:
        code, message = _issue(body)
        return GatewayResult(status=status, decline_code=code, message=message)

    @staticmethod
    def _order_authorization(order: dict) -> dict | None:
        for unit in order.get("purchase_units") or []:
            authorizations = (unit.get("payments") or {}).get("authorizations") or []
            if authorizations:
                return authorizations[-1]
        return None

    # -- the approval step ---------------------------------------------------------------

    def approval_start(self, *, amount, currency, return_url) -> tuple[str, str]:
        """Create the order the customer approves on PayPal; return (payment token, approve URL)."""
        separator = "&" if "?" in return_url else "?"
        body = {
            "intent": "AUTHORIZE",
            "purchase_units": [{"amount": _amount(amount, currency)}],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": f"{return_url}{separator}paypal=approved",
                        "cancel_url": f"{return_url}{separator}paypal=cancelled",
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }
        status, order = self._api(
            "POST", "/v2/checkout/orders", json=body, request_id=f"order-{uuid.uuid4()}"
        )
        if status not in (200, 201):
            raise GatewayError(f"PayPal refused to create the order: {_issue(order)[1]}")
        links = {link.get("rel"): link.get("href") for link in order.get("links") or []}
        approve = links.get("payer-action") or links.get("approve")
        if not approve:
            raise GatewayError("PayPal created the order without an approval link")
        return f"{TOKEN_PREFIX}{order['id']}", approve

    # -- the gateway protocol ------------------------------------------------------------

    def authorize(self, *, amount, currency, payment_token, idempotency_key, order_reference):
        order_id = payment_token.removeprefix(TOKEN_PREFIX)
        if not _ORDER_ID.match(order_id):
            return GatewayResult(
                ResultStatus.DECLINED, decline_code="invalid_token", message="Not a PayPal order id"
            )
        self._remember(idempotency_key, order_id)
        try:
            status, order = self._api(
                "POST",
                f"/v2/checkout/orders/{quote(order_id)}/authorize",
                json={},
                request_id=idempotency_key,
            )
        except (GatewayTimeout, GatewayUnavailable):
            raise
        except GatewayError as error:
            return GatewayResult(
                ResultStatus.ERROR, decline_code="gateway_not_configured", message=str(error)
            )
        if status not in (200, 201):
            final = ResultStatus.DECLINED if status == 422 else ResultStatus.ERROR
            return self._refused(order, final)
        authorization = self._order_authorization(order)
        if authorization is None:
            return GatewayResult(
                status=ResultStatus.ERROR,
                decline_code="no_authorization",
                message="PayPal completed the order without an authorization",
            )
        result = self._authorization_result(authorization, order)
        if result.status == ResultStatus.AUTHORIZED and (result.amount, result.currency) != (
            amount,
            currency.upper(),
        ):
            return self._mismatch_release(result, idempotency_key)
        return result

    def _mismatch_release(self, result: GatewayResult, idempotency_key: str) -> GatewayResult:
        """The customer approved another amount: release it rather than keep the wrong hold."""
        self.void(reference=result.reference, idempotency_key=f"{idempotency_key}-mismatch")
        return GatewayResult(
            status=ResultStatus.ERROR,
            reference=result.reference,
            decline_code="amount_mismatch",
            message="The PayPal order was approved for a different amount",
        )

    def capture(self, *, reference, amount, currency, idempotency_key):
        status, body = self._api(
            "POST",
            f"/v2/payments/authorizations/{quote(reference)}/capture",
            json={"amount": _amount(amount, currency), "final_capture": True},
            request_id=idempotency_key,
        )
        if status in (200, 201) and body.get("status") in ("COMPLETED", "PENDING"):
            return GatewayResult(
                status=ResultStatus.CAPTURED,
                reference=body.get("id", ""),
                amount=amount,
                currency=currency.upper(),
                raw={"id": body.get("id"), "status": body.get("status")},
            )
        if status in (200, 201):
            return GatewayResult(
                status=ResultStatus.DECLINED,
                reference=body.get("id", ""),
                decline_code=(body.get("status") or "declined").lower(),
                message=f"PayPal capture {(body.get('status') or '').lower()}",
            )
        return self._refused(body)

    def void(self, *, reference, idempotency_key):
        status, body = self._api(
            "POST",
            f"/v2/payments/authorizations/{quote(reference)}/void",
            json={},
            request_id=idempotency_key,
        )
        if status in (200, 201, 204):
            return GatewayResult(status=ResultStatus.VOIDED, reference=reference)
        if status == 422:
            current, authorization = self._api(
                "GET", f"/v2/payments/authorizations/{quote(reference)}"
            )
            if current == 200 and authorization.get("status") == "VOIDED":
                return GatewayResult(status=ResultStatus.VOIDED, reference=reference)
        return self._refused(body)

    def reauthorize(self, *, reference, amount, currency, idempotency_key) -> GatewayResult:
        """A new authorization of a PayPal authorization past its 3-day honor period."""
        status, body = self._api(
            "POST",
            f"/v2/payments/authorizations/{quote(reference)}/reauthorize",
            json={"amount": _amount(amount, currency)},
            request_id=idempotency_key,
        )
        if status not in (200, 201):
            return self._refused(body)
        return self._authorization_result(body)

    def webhook_signature_verify(self, verification: dict) -> bool:
        """PayPal's own verdict on a webhook transmission (verify-webhook-signature)."""
        status, body = self._api(
            "POST", "/v1/notifications/verify-webhook-signature", json=verification
        )
        return status == 200 and body.get("verification_status") == "SUCCESS"

    def lookup(self, *, reference: str, idempotency_key: str = "") -> GatewayResult:
        """A PayPal authorization by its id as it stands: a storefront hold, or a step's."""
        status, body = self._api("GET", f"/v2/payments/authorizations/{quote(reference)}")
        if status == 404:
            return GatewayResult(status=ResultStatus.NOT_FOUND, reference=reference)
        if status != 200:
            raise GatewayUnavailable(f"PayPal answered {status} to an authorization look-up")
        return self._authorization_result(body)

    def token_reference(self, payment_token):
        return payment_token if payment_token.startswith(TOKEN_PREFIX) else ""

    def fetch(self, *, idempotency_key, reference: str = ""):
        """What PayPal knows of the authorization attempted with this request id."""
        with self._lock:
            order_id = reference.removeprefix(TOKEN_PREFIX) or self._journal.get(idempotency_key)
        if not order_id:
            raise GatewayError(
                "PayPal cannot be searched by request id and the PayPal order id of "
                f"{idempotency_key} is not known here; settle it from PayPal's activity"
            )
        status, order = self._api("GET", f"/v2/checkout/orders/{quote(order_id)}")
        if status == 404:
            return GatewayResult(status=ResultStatus.NOT_FOUND)
        if status != 200:
            raise GatewayUnavailable(f"PayPal answered {status} to an order look-up")
        authorization = self._order_authorization(order)
        if authorization is None:
            return GatewayResult(status=ResultStatus.NOT_FOUND)
        return self._authorization_result(authorization, order)
