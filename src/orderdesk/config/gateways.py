"""The payment gateways in use, their authorization validity and the embedded sandbox's faults.

Gateway credentials (ORDERDESK_STRIPE_*, ORDERDESK_PAYPAL_*) need no line here: the
adapters read them when a call is made (payments.gateways.transport.setting)."""

import os

ORDERDESK_GATEWAY = os.environ.get("ORDERDESK_GATEWAY", "sandbox")
# A gateway per payment method, e.g. "card:stripe,paypal:paypal"; others use ORDERDESK_GATEWAY.
ORDERDESK_GATEWAYS = os.environ.get("ORDERDESK_GATEWAYS", "")
# Validity per gateway, method and card network, in the form
# "stripe:card=7,paypal:paypal=29+3,sandbox:card:amex=7" (days, optional +honor days).
ORDERDESK_AUTHORIZATION_POLICIES = os.environ.get("ORDERDESK_AUTHORIZATION_POLICIES", "")
ORDERDESK_SANDBOX = {
    "latency_ms": int(os.environ.get("ORDERDESK_SANDBOX_LATENCY_MS", "0")),
    "timeout_rate": float(os.environ.get("ORDERDESK_SANDBOX_TIMEOUT_RATE", "0")),
    "server_error_rate": float(os.environ.get("ORDERDESK_SANDBOX_SERVER_ERROR_RATE", "0")),
    # Per operation (authorize, capture, void, fetch), e.g. ORDERDESK_SANDBOX_CAPTURE_TIMEOUT_RATE:
    # what is set here wins over the three above for that operation.
    "operations": {
        operation: {
            key: cast(os.environ[f"ORDERDESK_SANDBOX_{operation.upper()}_{key.upper()}"])
            for key, cast in (
                ("latency_ms", int),
                ("timeout_rate", float),
                ("server_error_rate", float),
            )
            if f"ORDERDESK_SANDBOX_{operation.upper()}_{key.upper()}" in os.environ
        }
        for operation in ("authorize", "capture", "void", "fetch")
    },
}
