"""Log-in lockouts (django-axes) as supervisors see and lift them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum

from orderdesk.common.clock import now
from orderdesk.common.permissions import require
from orderdesk.security.models import SecurityEvent, SecurityEventKind

UNLOCK_PERMISSION = "security.unlock_login"


LOCKED_BY = {"username": "user name", "ip_address": "address"}


@dataclass(frozen=True)
class Lockout:
    locked_by: str  # "username" or "ip_address" (settings.AXES_LOCKOUT_PARAMETERS)
    value: str
    failures: int
    last_failure_at: datetime
    locked_until: datetime

    @property
    def label(self) -> str:
        return LOCKED_BY[self.locked_by]


def lockouts_current() -> list[Lockout]:
    """User names and addresses locked out now: at the failure limit within the cool-off."""
    since = now() - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    lockouts = []
    for field in LOCKED_BY:
        rows = (
            recent.exclude(**{f"{field}__isnull": True})
            .order_by()
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        )
        lockouts += [
            Lockout(
                locked_by=field,
                value=row[field],
                failures=row["failures"],
                last_failure_at=row["last"],
                locked_until=row["last"] + settings.AXES_COOLOFF_TIME,
            )
            for row in rows
            if row[field]  # an empty user name is nobody's lockout
        ]
    return sorted(lockouts, key=lambda lockout: lockout.last_failure_at, reverse=True)


def security_event_record(
    *,
    kind: str,
    username: str = "",
    ip_address: str = "",
    message: str = "",
    reason: str = "",
    actor=None,
) -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=kind,
        username=username[:150],
        ip_address=ip_address or None,
        message=message[:500],
        reason=reason[:500],
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label="" if getattr(actor, "pk", None) else "system",
        created_at=now(),
    )


@transaction.atomic
def lockout_unlock(*, locked_by: str, value: str, actor, reason: str = "") -> Lockout | None:
    """Lift the lockout of a user name or an address: it may try again at once.

    Returns the lockout lifted, or None when it had already ended (nothing is recorded then).
    """
    require(actor, UNLOCK_PERMISSION)
    if locked_by not in LOCKED_BY:
        raise ValueError(f"locked_by must be one of {', '.join(LOCKED_BY)}")
    lockout = next(
        (item for item in lockouts_current() if (item.locked_by, item.value) == (locked_by, value)),
        None,
    )
    if lockout is None:
        return None
    if locked_by == "username":
        reset(username=value)
    else:
        reset(ip=value)
    security_event_record(
        kind=SecurityEventKind.UNLOCKED,
        username=value if locked_by == "username" else "",
        ip_address=value if locked_by == "ip_address" else "",
        message=f"Unlocked the {lockout.label} after {lockout.failures} failed log-ins",
        reason=reason,
        actor=actor,
    )
    return lockout
