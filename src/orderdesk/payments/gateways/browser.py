"""What a page needs to take a card or PayPal in the browser with the gateway's own script.

With Stripe the card is typed into Stripe.js's fields (the Payment Element) and confirmed by
Stripe; with PayPal the payer approves with PayPal's JS SDK buttons (or on PayPal's page
after a redirect); with the embedded sandbox, its own tokenization script. The script
addresses are settings, read when a page is built, so that a deployment can pin them and
the tests can serve local stand-ins; the Content-Security-Policy of a page that loads one
allows exactly that script's origin (or, for Stripe's and PayPal's own addresses, the hosts
they document), and nothing when the gateway is not in use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from csp.constants import NONCE

from orderdesk.orders.models import PaymentMethod
from orderdesk.payments.gateways.base import Capability
from orderdesk.payments.gateways.registry import get_gateway
from orderdesk.payments.gateways.transport import setting

STRIPE_JS_URL = "https://js.stripe.com/v3/"
PAYPAL_SDK_URL = "https://www.paypal.com/sdk/js"
# The hosts Stripe and PayPal document for their scripts' Content-Security-Policy.
_STRIPE_HOSTS = {
    "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}
_PAYPAL_HOSTS = {
    "script-src": ["https://*.paypal.com"],
    "frame-src": ["https://*.paypal.com"],
    "connect-src": ["https://*.paypal.com"],
    "img-src": ["https://*.paypal.com", "https://*.paypalobjects.com"],
}


@dataclass(frozen=True)
class CardEntry:
    """How the page takes a card: "stripe" (Stripe.js), "sandbox", or "" (not here)."""

    kind: str
    script_url: str = ""
    publishable_key: str = ""
    intent_url: str = ""
    amount: int = 0  # in the gateway's units, for Stripe.js's deferred Payment Element
    currency: str = ""


def stripe_js_url() -> str:
    return setting("ORDERDESK_STRIPE_JS_URL", "") or STRIPE_JS_URL


def card_entry(*, amount: int | Callable[[], int], currency: str, intent_url: str) -> CardEntry:
    """The card fields a page shows for the gateway that new card authorizations go to.

    `amount` may be a callable: only Stripe.js needs it, and the order screen then saves
    the query.
    """
    gateway = get_gateway(method=PaymentMethod.CARD)
    if Capability.BROWSER_CONFIRMATION in gateway.capabilities:
        from orderdesk.payments.gateways.stripe_gateway import stripe_amount

        amount = amount() if callable(amount) else amount

        return CardEntry(
            kind=gateway.name,
            script_url=stripe_js_url(),
            publishable_key=setting("ORDERDESK_STRIPE_PUBLISHABLE_KEY", ""),
            intent_url=intent_url,
            amount=stripe_amount(amount, currency),
            currency=currency.lower(),
        )
    return CardEntry(kind="sandbox" if gateway.name == "sandbox" else "")


def paypal_sdk_url(*, currency: str) -> str:
    """The JS SDK (buttons) address with its query, or "" when PayPal is not the gateway."""
    if get_gateway(method=PaymentMethod.PAYPAL).name != "paypal":
        return ""
    base = setting("ORDERDESK_PAYPAL_SDK_URL", "") or PAYPAL_SDK_URL
    query = {
        "client-id": setting("ORDERDESK_PAYPAL_CLIENT_ID", ""),
        "intent": "authorize",
        "currency": currency.upper(),
        "components": "buttons",
        "disable-funding": "card,credit,paylater",
    }
    return f"{base}{'&' if '?' in base else '?'}{urlencode(query)}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_policy(*, card: CardEntry | None = None, paypal_script: str = "") -> dict:
    """The CSP additions (django-csp's update) for the gateway scripts a page loads."""
    update: dict[str, list[str]] = {}
    if card is not None and card.kind == "stripe":
        origin = _origin(card.script_url)
        hosts = _STRIPE_HOSTS if origin == _origin(STRIPE_JS_URL) else _same_origin(origin)
        _merge(update, hosts)
    if paypal_script:
        origin = _origin(paypal_script)
        hosts = _PAYPAL_HOSTS if origin == _origin(PAYPAL_SDK_URL) else _same_origin(origin)
        # The SDK adds its buttons' styles with the page's nonce (its data-csp-nonce).
        _merge(update, hosts | {"style-src": [NONCE]})
    return update


def _same_origin(origin: str) -> dict:
    """A script served from elsewhere (a pinned mirror, the tests' stand-ins): its origin."""
    return {name: [origin] for name in ("script-src", "frame-src", "connect-src")}


def _merge(update: dict, hosts: dict) -> None:
    for name, sources in hosts.items():
        update.setdefault(name, [])
        update[name] += [source for source in sources if source not in update[name]]
