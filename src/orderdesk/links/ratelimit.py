"""Fixed-window rate limits of the customer pages, per link and per client address.

Counters live in Django's cache (settings.CACHES). A fixed window is enough here: the aim
is to stop token guessing and card testing, not to shape traffic.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from orderdesk.links.tokens import token_hash


def _hit(scope: str, identity: str, limit: int, window: int) -> bool:
    """Count one request; False when the window's limit is exceeded."""
    key = f"orderdesk:rate:{scope}:{identity}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return count <= limit


def client_address(request) -> str:
    # REMOTE_ADDR: behind a proxy, the proxy sets it (a client-sent X-Forwarded-For is not trusted).
    return request.META.get("REMOTE_ADDR", "unknown")


def request_allowed(request, token: str) -> bool:
    window = settings.ORDERDESK_LINK_RATE_WINDOW_SECONDS
    by_address = _hit(
        "address", client_address(request), settings.ORDERDESK_LINK_RATE_PER_ADDRESS, window
    )
    # The cache key holds the token's hash, never the token.
    by_token = _hit("token", token_hash(token)[:32], settings.ORDERDESK_LINK_RATE_PER_TOKEN, window)
    return by_address and by_token
