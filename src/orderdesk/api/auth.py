"""Who is calling: an API key (Bearer) or a staff session (with CSRF on writes)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from ninja.errors import Throttled
from ninja.security import HttpBearer, SessionAuthIsStaff
from ninja.throttling import BaseThrottle

from orderdesk.api.keys import api_key_authenticate
from orderdesk.api.models import ApiKeyScope
from orderdesk.common.ratelimit import api_key_failure_rate, api_rate, limit_exceeded

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key made with `orderdesk apikey create`: `Bearer od_…`"

    def authenticate(self, request, token: str):
        # An address that sent too many wrong keys is refused before any key is looked at,
        # the right one included, until its window passes.
        if limit_exceeded(
            request, group="api.key-failures", rate=api_key_failure_rate, count=False
        ):
            raise Throttled(wait=settings.ORDERDESK_RATE_WINDOW_SECONDS)
        user = None
        if len(token) <= 200 and "\x00" not in token:
            user = api_key_authenticate(token)
        if user is None:
            limit_exceeded(request, group="api.key-failures", rate=api_key_failure_rate)
        elif user.api_key.scope == ApiKeyScope.READ and request.method not in SAFE_METHODS:
            raise PermissionDenied("This API key may only read (scope read).")
        return user


class StaffSessionAuth(SessionAuthIsStaff):
    """The dashboard's log-in; ninja checks the CSRF token on unsafe methods."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


def require_permission(request, permission: str) -> None:
    """API-level check before any work; the services check again, whatever the entry point."""
    user = request.auth
    if not user.has_perm(permission):
        raise PermissionDenied(f"Your role does not allow this (needs {permission}).")


class AddressThrottle(BaseThrottle):
    """Requests per client address per window, counted in the shared cache."""

    def allow_request(self, request) -> bool:
        return not limit_exceeded(request, group="api", rate=api_rate)

    def wait(self) -> float:
        return float(settings.ORDERDESK_RATE_WINDOW_SECONDS)


AUTH = [ApiKeyAuth(), StaffSessionAuth()]
THROTTLE = [AddressThrottle()]
