"""The embedded sandbox gateway: behaves like a real one, runs with no account anywhere.

Latency and faults are injected here, on the client side of the "network", the way a real
integration meets them: a timeout after the gateway has acted (the response was lost),
or a 5xx before it acted. Tests can force the next faults with `inject_faults`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from contextlib import contextmanager

from django.conf import settings

from orderdesk.payments.gateways.base import (
    Capability,
    GatewayResult,
    GatewayTimeout,
    GatewayUnavailable,
    ResultStatus,
)
from orderdesk.sandbox import server
from orderdesk.sandbox.models import SandboxTransaction

TIMEOUT = "timeout"
SERVER_ERROR = "server_error"
OPERATIONS = ("authorize", "capture", "void", "fetch")
# Forced faults, in order: (operation or None for any operation that acts, fault).
_forced: deque[tuple[str | None, str]] = deque()
_forced_lock = threading.Lock()


@contextmanager
def inject_faults(*faults: str, operation: str | None = None):
    """Make the next calls fail in order, e.g. inject_faults("timeout", "server_error").

    Without `operation` the faults meet the next calls that act (authorize, capture,
    void); with it, only that operation's calls (fetch included).
    """
    if operation is not None and operation not in OPERATIONS:
        raise ValueError(f"the sandbox has no operation {operation!r}")
    with _forced_lock:
        _forced.extend((operation, fault) for fault in faults)
    try:
        yield
    finally:
        with _forced_lock:
            _forced.clear()


def _forced_fault(operation: str) -> str | None:
    with _forced_lock:
        for entry in _forced:
            target, fault = entry
            if target == operation or (target is None and operation != "fetch"):
                _forced.remove(entry)
                return fault
    return None


def fault_settings(operation: str) -> dict:
    """The latency and fault rates of one operation: its own settings over the shared ones."""
    config = settings.ORDERDESK_SANDBOX
    shared = {key: config[key] for key in ("latency_ms", "timeout_rate", "server_error_rate")}
    return {**shared, **config.get("operations", {}).get(operation, {})}


def _next_fault(operation: str) -> str | None:
    if forced := _forced_fault(operation):
        return forced
    config = fault_settings(operation)
    roll = random.random()
    if roll < config["timeout_rate"]:
        return TIMEOUT
    if roll < config["timeout_rate"] + config["server_error_rate"]:
        return SERVER_ERROR
    return None


def _result(record: SandboxTransaction) -> GatewayResult:
    return GatewayResult(
        status=record.status,
        reference=record.reference,
        amount=record.amount,
        currency=record.currency,
        card_brand=record.card_brand,
        card_last4=record.card_last4,
        payer_email=record.payer_email,
        decline_code=record.decline_code,
        message=record.decline_code.replace("_", " ") if record.decline_code else "",
    )


class SandboxGateway:
    name = "sandbox"
    capabilities = frozenset({Capability.PAYPAL_APPROVAL})

    def _call(self, operation: str, act, **kwargs) -> GatewayResult:
        """Latency, then a 5xx before acting or a timeout after acting (the answer lost)."""
        latency = fault_settings(operation)["latency_ms"]
        if latency:
            time.sleep(latency / 1000)
        fault = _next_fault(operation)
        if fault == SERVER_ERROR:
            raise GatewayUnavailable("sandbox gateway answered 503")
        record = act(**kwargs)
        if fault == TIMEOUT:
            raise GatewayTimeout("sandbox gateway did not answer in time")
        return record

    def authorize(self, *, amount, currency, payment_token, idempotency_key, order_reference):
        return _result(
            self._call(
                "authorize",
                server.authorize,
                amount=amount,
                currency=currency,
                token=payment_token,
                idempotency_key=idempotency_key,
            )
        )

    def capture(self, *, reference, amount, currency, idempotency_key):
        return _result(
            self._call(
                "capture",
                server.capture,
                reference=reference,
                amount=amount,
                idempotency_key=idempotency_key,
            )
        )

    def void(self, *, reference, idempotency_key):
        return _result(
            self._call("void", server.void, reference=reference, idempotency_key=idempotency_key)
        )

    def token_reference(self, payment_token):
        # Card tokens are signed blobs with nothing to look up; PayPal orders have an id.
        return payment_token if payment_token.startswith("paypal:") else ""

    def fetch(self, *, idempotency_key, reference=""):
        record = self._call("fetch", server.fetch_authorization, idempotency_key=idempotency_key)
        if record is None:
            return GatewayResult(status=ResultStatus.NOT_FOUND)
        # A captured or voided authorization was authorized when it was made.
        return _result(record)

    def lookup(self, *, reference, idempotency_key=""):
        """An authorization by its reference, as the ledger holds it now (a captured one
        with the amount captured), through the same faults as `fetch`. With the key of a
        capture or void, that operation's own record when the ledger has it."""
        record = self._call("fetch", server.authorization_by_reference, reference=reference)
        if record is None:
            return GatewayResult(status=ResultStatus.NOT_FOUND, reference=reference)
        if idempotency_key and (
            done := server.operation_by_key(reference=reference, idempotency_key=idempotency_key)
        ):
            return _result(done)
        result = _result(record)
        if record.status == ResultStatus.CAPTURED:
            amount = server.captured_amount(reference=reference)
            result = GatewayResult(**{**result.__dict__, "amount": amount})
        return result

    # Hosted approval step (PayPal-style): where to send the customer, and back.
    def approval_start(self, *, amount, currency, return_url) -> tuple[str, str]:
        order = server.paypal_order_create(amount=amount, currency=currency, return_url=return_url)
        return f"paypal:{order.reference}", f"/sandbox/paypal/{order.reference}/"
