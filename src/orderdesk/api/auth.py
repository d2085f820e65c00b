"""Who is calling: an API key (Bearer) or a staff session (with CSRF on writes)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from ninja.security import HttpBearer, SessionAuthIsStaff

from orderdesk.api.keys import api_key_authenticate


class ApiKeyAuth(HttpBearer):
    openapi_description = "An API key made with `manage.py createapikey`: `Bearer od_…`"

    def authenticate(self, request, token: str):
        if len(token) > 200 or "\x00" in token:
            return None
        return api_key_authenticate(token)


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


AUTH = [ApiKeyAuth(), StaffSessionAuth()]
