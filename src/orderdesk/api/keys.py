"""API keys: made once, shown once, kept only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from orderdesk.api.models import ApiKey, ApiKeyScope
from orderdesk.common.clock import now

KEY_PREFIX = "od_"
# Recording every use would turn each API read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, name: str, username: str, scope: str = ApiKeyScope.WRITE
) -> tuple[ApiKey, str]:
    """Create a key for a staff user; returns the row and the key, which is never shown again."""
    if scope not in ApiKeyScope.values:
        raise ValueError(f"scope must be one of {', '.join(ApiKeyScope.values)}")
    if not name.strip():
        raise ValueError("give the key a name")
    user = get_user_model().objects.get(username=username)
    if not (user.is_active and user.is_staff):
        raise ValueError(f"{username} is not an active staff user")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        secret_hash=_hash(secret),
        user=user,
        scope=scope,
        created_at=now(),
    )
    return api_key, f"{KEY_PREFIX}{prefix}_{secret}"


def api_key_authenticate(presented: str):
    """The staff user a presented key acts as, or None (unknown, wrong, revoked, inactive)."""
    body = presented.strip().removeprefix(KEY_PREFIX)
    prefix, _, secret = body.partition("_")
    if not prefix or not secret or len(prefix) > 16:
        return None
    api_key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash(secret)):
        return None
    user = api_key.user
    if not api_key.is_active or not (user.is_active and user.is_staff):
        return None
    moment = now()
    if api_key.last_used_at is None or api_key.last_used_at < moment - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=moment)
    user.api_key = api_key
    return user


@transaction.atomic
def api_key_revoke(*, prefix: str) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().get(prefix=prefix)
    if api_key.revoked_at is None:
        api_key.revoked_at = now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_keys_list():
    """Every key, newest first, with the user it acts as (never its secret)."""
    return ApiKey.objects.select_related("user").order_by("-created_at", "-id")
