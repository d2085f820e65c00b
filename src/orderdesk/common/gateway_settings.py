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


def sandbox_in_use() -> bool:
    return "sandbox" in gateways_in_use()
