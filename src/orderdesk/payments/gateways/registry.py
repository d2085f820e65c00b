"""Which gateway serves a call.

A new authorization goes to the gateway of its payment method (`ORDERDESK_GATEWAYS`, e.g.
`card:stripe,paypal:paypal`; a method it does not name goes to `ORDERDESK_GATEWAY`). An
existing authorization is always captured, voided and reconciled through the gateway that
made it, whatever the settings say now: callers pass `authorization.gateway` by name.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from orderdesk.common.gateway_settings import gateway_items
from orderdesk.payments.gateways.base import Gateway, GatewayError

GATEWAYS = {
    "sandbox": "orderdesk.payments.gateways.sandbox.SandboxGateway",
    "paypal": "orderdesk.payments.gateways.paypal.PayPalGateway",
    "stripe": "orderdesk.payments.gateways.stripe_gateway.StripeGateway",
}

_instances: dict[str, Gateway] = {}


def gateways_by_method(text: str | None = None) -> dict[str, str]:
    """`card:stripe,paypal:paypal` as {method: gateway name}; unknown names refused."""
    mapping: dict[str, str] = {}
    for method, name in gateway_items(text):
        if not method or name not in GATEWAYS:
            raise GatewayError(
                f"ORDERDESK_GATEWAYS item {method}:{name} is not method:gateway with a gateway "
                f"of {', '.join(sorted(GATEWAYS))}"
            )
        mapping[method] = name
    return mapping


def gateway_name_for(method: str | None) -> str:
    """The gateway a new authorization by this payment method goes to."""
    return gateways_by_method().get(method or "", settings.ORDERDESK_GATEWAY)


def gateway_names_configured() -> set[str]:
    """Every gateway new authorizations can go to under the current settings."""
    return {settings.ORDERDESK_GATEWAY, *gateways_by_method().values()}


def get_gateway(name: str | None = None, *, method: str | None = None) -> Gateway:
    """The gateway by name (the one an authorization was made with), else the method's."""
    name = name or gateway_name_for(method)
    if name not in GATEWAYS:
        raise GatewayError(f"unknown gateway {name!r}; known: {', '.join(sorted(GATEWAYS))}")
    if name not in _instances:
        _instances[name] = import_string(GATEWAYS[name])()
    return _instances[name]
