"""The cache shared by every web process, where the rate limits count."""

import os

# The rate limits (django-ratelimit) and the log-in throttle count in this cache, shared by
# every web process: Django's database cache in the same database by default (its table is
# made by `orderdesk migrate`/`serve`), Redis when ORDERDESK_CACHE_URL says redis://...
ORDERDESK_CACHE_URL = os.environ.get("ORDERDESK_CACHE_URL", "")


DATABASE_CACHE_MAX_ENTRIES = 100_000


def cache_from_url(url: str) -> dict:
    if not url or url.startswith("db:"):
        table = url.removeprefix("db:").lstrip("/") or "orderdesk_cache"
        return {
            "BACKEND": "orderdesk.common.cache.DatabaseCache",
            "LOCATION": table,
            # Django's default of 300 entries is reached by a few hundred customers paying
            # within one rate-limit window (a counter per link); past it every write deletes
            # a third of the live counters (resetting the limits) and, on PostgreSQL, can
            # deadlock with a concurrent increment holding one of them: a customer's 500.
            "OPTIONS": {"MAX_ENTRIES": DATABASE_CACHE_MAX_ENTRIES},
        }
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url.startswith("locmem:"):  # one process only: counts are not shared
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "orderdesk"}
    raise RuntimeError(
        f"ORDERDESK_CACHE_URL must be empty, db:TABLE, redis://host:port/db or locmem:, not {url!r}"
    )


CACHES = {"default": cache_from_url(ORDERDESK_CACHE_URL)}
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "orderdesk.common.views.rate_limited"
# django-ratelimit warns about any cache it does not list; the database cache here is
# orderdesk's own, whose increment is atomic (a row lock), and Django's Redis cache
# increments with INCR.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
