"""Which gateways the settings put in use, read when asked (tests and deployments change them).

`ORDERDESK_GATEWAYS` names a gateway per payment method ("card:stripe,paypal:paypal");
`ORDERDESK_GATEWAY` serves every method it does not name. Kept at the ground floor so that
the sandbox's own endpoints can tell whether the sandbox is in use without asking payments.
"""

from __future__ import annotations

from django.conf import settings


def gateway_items(text: str | None = None) -> list[tuple[str, str]]:
    """`card:stripe, paypal:paypal` as [(method, gateway)], unchecked; "" where missing."""
    text = getattr(settings, "ORDERDESK_GATEWAYS", "") if text is None else text
    items = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        method, separator, name = (piece.strip() for piece in item.partition(":"))
        items.append((method, name if separator else ""))
    return items


def gateways_in_use() -> set[str]:
    return {settings.ORDERDESK_GATEWAY, *(name for _, name in gateway_items() if name)}


# The payment methods a gateway can take new authorizations for ("terms" is never authorized).
PAYMENT_METHODS = ("card", "paypal")


def gateway_for_method(method: str) -> str:
    named = {item_method: name for item_method, name in gateway_items() if name}
    return named.get(method) or settings.ORDERDESK_GATEWAY


def sandbox_serves(method: str) -> bool:
    """Whether new authorizations by this payment method go to the sandbox."""
    return gateway_for_method(method) == "sandbox"


def sandbox_in_use() -> bool:
    """Whether any payment method goes to the sandbox (ORDERDESK_GATEWAY=sandbox with every
    method named elsewhere in ORDERDESK_GATEWAYS does not count)."""
    return any(sandbox_serves(method) for method in PAYMENT_METHODS)
