"""Rate limits of the customer pages, per link and per client address (django-ratelimit).

The counts live in the shared cache (settings.CACHES), so the documented numbers hold
whatever the number of web processes. A fixed window is enough here: the aim is to stop
token guessing and card testing, not to shape traffic.
"""

from __future__ import annotations

from django.conf import settings

from orderdesk.common.ratelimit import limit_exceeded
from orderdesk.links.tokens import token_hash


def request_allowed(request, token: str) -> bool:
    window = settings.ORDERDESK_LINK_RATE_WINDOW_SECONDS
    by_address = limit_exceeded(
        request,
        group="links.address",
        rate=f"{settings.ORDERDESK_LINK_RATE_PER_ADDRESS}/{window}s",
    )
    # The cache key holds the token's hash, never the token.
    by_token = limit_exceeded(
        request,
        group="links.token",
        rate=f"{settings.ORDERDESK_LINK_RATE_PER_TOKEN}/{window}s",
        key=lambda group, request: token_hash(token)[:32],
    )
    return not (by_address or by_token)
