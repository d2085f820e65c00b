"""django-axes tells orderdesk of each lockout; it goes on the audit record."""

from __future__ import annotations

import logging

from axes.signals import user_locked_out
from django.dispatch import receiver

from orderdesk.security.models import SecurityEventKind
from orderdesk.security.services import security_event_record

logger = logging.getLogger("orderdesk.security")


@receiver(user_locked_out, dispatch_uid="orderdesk.security.lockout")
def lockout_recorded(sender, request=None, username=None, ip_address=None, **kwargs):
    path = getattr(request, "path", "") or ""
    security_event_record(
        kind=SecurityEventKind.LOCKED_OUT,
        username=username or "",
        ip_address=ip_address or "",
        message=f"Locked out after repeated failed log-ins on {path or 'log-in'}",
    )
    logger.warning("log-in locked out: user %r, address %s", username, ip_address)
