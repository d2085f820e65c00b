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

The HTTP side (token, retries, error mapping) is `paypal_transport`; reading PayPal's
answers as gateway results is `paypal_results`.
"""

from __future__ import annotations

import re
import uuid
from collections import OrderedDict
from urllib.parse import quote

from orderdesk.payments.gateways.base import (
    Capability,
    GatewayError,
    GatewayResult,
    GatewayTimeout,
    GatewayUnavailable,
    ResultStatus,
)
from orderdesk.payments.gateways.paypal_results import (
    authorization_result,
    order_authorization,
    paypal_amount,
    paypal_issue,
    refused,
)
from orderdesk.payments.gateways.paypal_transport import PayPalTransport

TOKEN_PREFIX = "paypal:"
_ORDER_ID = re.compile(r"^[A-Z0-9]{1,36}$")
_JOURNAL_SIZE = 10_000


class PayPalGateway(PayPalTransport):
    name = "paypal"
    capabilities = frozenset({Capability.PAYPAL_APPROVAL, Capability.REAUTHORIZE})

    def __init__(self):
        super().__init__()
        self._journal: OrderedDict[str, str] = OrderedDict()  # request id -> order id

    def _remember(self, request_id: str, order_id: str) -> None:
        with self._lock:
            self._journal[request_id] = order_id
            self._journal.move_to_end(request_id)
            while len(self._journal) > _JOURNAL_SIZE:
                self._journal.popitem(last=False)

    # -- the approval step ---------------------------------------------------------------

    def approval_start(self, *, amount, currency, return_url) -> tuple[str, str]:
        """Create the order the customer approves on PayPal; return (payment token, approve URL)."""
        separator = "&" if "?" in return_url else "?"
        body = {
            "intent": "AUTHORIZE",
            "purchase_units": [{"amount": paypal_amount(amount, currency)}],
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
            raise GatewayError(f"PayPal refused to create the order: {paypal_issue(order)[1]}")
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
            return refused(order, final)
        authorization = order_authorization(order)
        if authorization is None:
            return GatewayResult(
                status=ResultStatus.ERROR,
                decline_code="no_authorization",
                message="PayPal completed the order without an authorization",
            )
        result = authorization_result(authorization, order)
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
            json={"amount": paypal_amount(amount, currency), "final_capture": True},
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
        return refused(body)

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
        return refused(body)

    def reauthorize(self, *, reference, amount, currency, idempotency_key) -> GatewayResult:
        """A new authorization of a PayPal authorization past its 3-day honor period."""
        status, body = self._api(
            "POST",
            f"/v2/payments/authorizations/{quote(reference)}/reauthorize",
            json={"amount": paypal_amount(amount, currency)},
            request_id=idempotency_key,
        )
        if status not in (200, 201):
            return refused(body)
        return authorization_result(body)

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
        return authorization_result(body)

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
        authorization = order_authorization(order)
        if authorization is None:
            return GatewayResult(status=ResultStatus.NOT_FOUND)
        return authorization_result(authorization, order)
