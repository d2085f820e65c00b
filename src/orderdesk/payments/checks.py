"""System checks of the gateways' settings (`manage.py check`, run before every command).

A gateway that takes a payment method but lacks a credential fails only when a customer
pays (Stripe.js cannot load without its publishable key; PayPal's SDK without its client
id): said at start-up instead, a warning while trying things out, an error in production.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from orderdesk.payments.gateways.base import GatewayError
from orderdesk.payments.gateways.registry import gateway_names_configured
from orderdesk.payments.gateways.transport import setting

REQUIRED = {
    "stripe": ("ORDERDESK_STRIPE_SECRET_KEY", "ORDERDESK_STRIPE_PUBLISHABLE_KEY"),
    "paypal": ("ORDERDESK_PAYPAL_CLIENT_ID", "ORDERDESK_PAYPAL_CLIENT_SECRET"),
}


@checks.register("orderdesk", checks.Tags.compatibility)
def gateway_credentials_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every configured gateway's credentials are set (E/W001: missing, E/W002: unreadable)."""
    production = bool(getattr(settings, "PRODUCTION", False))
    level, prefix = (checks.Error, "E") if production else (checks.Warning, "W")
    try:
        names = gateway_names_configured()
    except GatewayError as error:
        return [level(str(error), id=f"orderdesk.{prefix}002")]
    found = []
    for name in sorted(names):
        missing = [key for key in REQUIRED.get(name, ()) if not setting(key, "")]
        if missing:
            found.append(
                level(
                    f"Gateway {name} takes payments but {', '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} not set.",
                    hint="Set it in the environment (README, Gateways).",
                    id=f"orderdesk.{prefix}001",
                )
            )
    return found
