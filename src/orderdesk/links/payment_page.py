"""The gateway scripts of a page that takes a payment: which fields, and the headers they need.

Used by the customer's page and by the order screen's virtual terminal. A page that loads
Stripe.js or PayPal's JS SDK gets a Content-Security-Policy that allows that script's hosts
(django-csp's per-response update), and nothing more; PayPal's approval popup needs an
opener policy that keeps the popup's way back to the page.
"""

from __future__ import annotations

from collections.abc import Callable

from orderdesk.payments.gateways.browser import (
    CardEntry,
    card_entry,
    content_policy,
    paypal_sdk_url,
)


def payment_fields(
    *, amount: int | Callable[[], int], currency: str, intent_url: str, paypal: bool = False
) -> dict:
    """Template context: `card_entry`, and `paypal_sdk_url` ("" for the redirect flow)."""
    return {
        "card_entry": card_entry(amount=amount, currency=currency, intent_url=intent_url),
        "paypal_sdk_url": paypal_sdk_url(currency=currency) if paypal else "",
    }


def gateway_scripts_allow(response, *, card: CardEntry | None = None, paypal_script: str = ""):
    """Let this response load the gateway scripts it shows (and nothing when it shows none)."""
    update = content_policy(card=card, paypal_script=paypal_script)
    if update:
        response._csp_update = update
    if paypal_script:
        response["Cross-Origin-Opener-Policy"] = "same-origin-allow-popups"
    return response
