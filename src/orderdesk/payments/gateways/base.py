"""The gateway protocol, its results and its errors.

Every call carries an idempotency key, so repeating a call after a lost response never
authorizes, captures or voids twice. A timeout raises `GatewayTimeout`: the outcome is
unknown and only `fetch` (reconciliation) can tell what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


class Capability:
    REAUTHORIZE = "reauthorize"
    PAYPAL_APPROVAL = "paypal_approval"
    # The card is confirmed in the browser with the gateway's own script (Stripe.js):
    # `intent_create` gives the browser what it confirms; the confirmed id is the token;
    # `intent_read` reads one back (for a hold the browser never posted, or one refused).
    BROWSER_CONFIRMATION = "browser_confirmation"


class ResultStatus:
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    ERROR = "error"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class GatewayResult:
    status: str
    reference: str = ""
    amount: int = 0
    currency: str = ""
    expires_at: datetime | None = None  # the gateway's own expiry wins over any policy
    card_brand: str = ""
    card_last4: str = ""
    payer_email: str = ""
    decline_code: str = ""
    message: str = ""
    raw: dict = field(default_factory=dict, repr=False)


class PaymentError(Exception):
    """Base of everything a gateway can raise."""


class GatewayError(PaymentError):
    """The gateway could not be used (bad configuration, 4xx from our own mistake)."""


class GatewayUnavailable(GatewayError):
    """The gateway answered 5xx or refused the connection: nothing happened, retry later."""


class GatewayTimeout(GatewayError):
    """No answer in time: the call may or may not have happened. Reconcile with fetch."""


@runtime_checkable
class Gateway(Protocol):
    name: str
    capabilities: frozenset[str]

    def authorize(
        self,
        *,
        amount: int,
        currency: str,
        payment_token: str,
        idempotency_key: str,
        order_reference: str,
    ) -> GatewayResult: ...

    def capture(
        self, *, reference: str, amount: int, currency: str, idempotency_key: str
    ) -> GatewayResult: ...

    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult: ...

    def fetch(self, *, idempotency_key: str, reference: str = "") -> GatewayResult:
        """What the gateway knows of the authorization made with this key (NOT_FOUND if none).

        `reference` is the instrument reference recorded when the authorization began.
        """
        ...

    def lookup(self, *, reference: str, idempotency_key: str = "") -> GatewayResult:
        """What the gateway holds now for the authorization `reference`: AUTHORIZED (still
        held), CAPTURED (`amount` captured so far), VOIDED, EXPIRED, or NOT_FOUND. Capture
        and void steps whose answer was lost or refused are settled from it. Where the
        gateway can find an operation by its idempotency key (the sandbox), the capture or
        void made with `idempotency_key` answers with its own record."""
        ...

    def token_reference(self, payment_token: str) -> str:
        """The part of a payment token that is safe to keep and identifies the attempt."""
        ...
