"""Rate limits over the shared cache (django-ratelimit), read from settings at request time.

Every limit is a fixed window of settings.ORDERDESK_RATE_WINDOW_SECONDS (the customer pages
have their own window) counted in the default cache, which all web processes share.
"""

from __future__ import annotations

from django.conf import settings
from django_ratelimit.core import get_usage


def client_address(request) -> str:
    # REMOTE_ADDR: behind a proxy, the proxy sets it (a client-sent X-Forwarded-For is not trusted).
    return request.META.get("REMOTE_ADDR") or "unknown"


def address_key(group, request) -> str:
    return client_address(request)


def _rate(count: int, window: int | None = None) -> str:
    return f"{count}/{window or settings.ORDERDESK_RATE_WINDOW_SECONDS}s"


def login_rate(group, request) -> str:
    return _rate(settings.ORDERDESK_LOGIN_RATE_PER_ADDRESS)


def api_rate(group, request) -> str:
    return _rate(settings.ORDERDESK_API_RATE_PER_ADDRESS)


def api_key_failure_rate(group, request) -> str:
    return _rate(settings.ORDERDESK_API_KEY_FAILURE_LIMIT)


def tokenize_rate(group, request) -> str:
    return _rate(settings.ORDERDESK_SANDBOX_TOKENIZE_RATE_PER_ADDRESS)


def limit_exceeded(request, *, group: str, rate: str, key=address_key, count: bool = True) -> bool:
    """Count this request and say whether it is past the window's limit; with `count` False,
    only say whether the limit is used up (the next counted request would be refused)."""
    usage = get_usage(request, group=group, key=key, rate=rate, increment=count)
    if not usage:
        return False
    return usage["should_limit"] if count else usage["count"] >= usage["limit"]
