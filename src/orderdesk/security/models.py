"""Staff interventions that belong to no order: log-in lockouts and their unlocking.

Append-only: rows are only ever inserted (services.py); the admin shows them read-only.
Interventions on an order are on the order's timeline (OrderEvent) and are not copied here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SecurityEventKind(models.TextChoices):
    LOCKED_OUT = "locked_out", "Log-in locked out"
    UNLOCKED = "unlocked", "Log-in unlocked"


class SecurityEvent(models.Model):
    kind = models.CharField(max_length=40, choices=SecurityEventKind.choices)
    username = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("unlock_login", "Can unlock a locked-out log-in"),
            ("view_audit", "Can read and export the audit of staff interventions"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.username or self.ip_address} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("security events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("security events are append-only")
