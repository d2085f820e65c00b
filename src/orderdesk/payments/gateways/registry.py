from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from orderdesk.payments.gateways.base import Gateway, GatewayError

GATEWAYS = {
    "sandbox": "orderdesk.payments.gateways.sandbox.SandboxGateway",
    "paypal": "orderdesk.payments.gateways.paypal.PayPalGateway",
    "stripe": "orderdesk.payments.gateways.stripe_gateway.StripeGateway",
}

_instances: dict[str, Gateway] = {}


def get_gateway(name: str | None = None) -> Gateway:
    """The configured gateway (ORDERDESK_GATEWAY) or the one an authorization was made with."""
    name = name or settings.ORDERDESK_GATEWAY
    if name not in GATEWAYS:
        raise GatewayError(f"unknown gateway {name!r}; known: {', '.join(sorted(GATEWAYS))}")
    if name not in _instances:
        _instances[name] = import_string(GATEWAYS[name])()
    return _instances[name]
