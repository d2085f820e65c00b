"""The audit of staff interventions, read from where each is already recorded.

Interventions on an order are rows of its append-only timeline (OrderEvent); log-in lockouts
and unlocks are SecurityEvent rows; API keys carry their own creation and revocation times.
Nothing is written twice: this module only reads and merges them, newest first.
"""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice

from django.db.models import Q
from django.utils import timezone

from orderdesk.api.models import ApiKey
from orderdesk.orders.models import EventKind, OrderEvent
from orderdesk.security.models import SecurityEvent

# action -> label; the order actions are timeline kinds done by a person.
ACTIONS = {
    "link_sent": "Payment link sent (re-trigger or price increase)",
    "link_revoked": "Payment link revoked",
    "manual_card": "Card processed manually",
    "overridden": "Ship gate overridden",
    "cancelled": "Order cancelled",
    "external_payment": "External payment recorded",
    "api_key_created": "API key created",
    "api_key_revoked": "API key revoked",
    "locked_out": "Log-in locked out",
    "unlocked": "Log-in unlocked",
}
ORDER_KINDS = {
    "link_sent": EventKind.LINK_SENT,
    "link_revoked": EventKind.LINK_REVOKED,
    "manual_card": EventKind.AUTHORIZATION_REQUESTED,  # only those a person made (source manual)
    "overridden": EventKind.OVERRIDDEN,
    "cancelled": EventKind.CANCELLED,
    "external_payment": EventKind.EXTERNAL_PAYMENT,
}
ACTION_OF_KIND = {str(kind): action for action, kind in ORDER_KINDS.items()}


def _order_condition(action: str) -> Q:
    condition = Q(kind=ORDER_KINDS[action])
    if action == "manual_card":
        condition &= Q(details__source="manual")
    return condition


FIELDS = ["at", "who", "action", "subject", "what", "why"]


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str
    action: str
    subject: str
    what: str
    why: str

    @property
    def action_label(self) -> str:
        return ACTIONS[self.action]

    def as_dict(self) -> dict:
        return {**asdict(self), "at": self.at.isoformat()}


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    who: str = ""
    order: str = ""
    since: date | None = None
    until: date | None = None


def _bounds(filters: AuditFilters) -> dict:
    zone = timezone.get_current_timezone()
    bounds = {}
    if filters.since:
        bounds["gte"] = datetime.combine(filters.since, time.min, zone)
    if filters.until:
        bounds["lt"] = datetime.combine(filters.until + timedelta(days=1), time.min, zone)
    return bounds


def _person(user) -> str:
    return user.get_username() if user is not None else ""


def _order_entries(filters: AuditFilters, bounds: dict):
    if filters.action and filters.action not in ORDER_KINDS:
        return
    condition = Q()
    for action in [filters.action] if filters.action else ORDER_KINDS:
        condition |= _order_condition(action)
    events = OrderEvent.objects.filter(condition, actor__isnull=False).select_related(
        "order", "actor"
    )
    if filters.who:
        events = events.filter(actor__username__icontains=filters.who)
    if filters.order:
        events = events.filter(order__number=filters.order)
    events = events.filter(**{f"created_at__{op}": value for op, value in bounds.items()})
    for event in events.order_by("-created_at", "-id").iterator(chunk_size=500):
        yield AuditEntry(
            at=event.created_at,
            who=_person(event.actor),
            action=ACTION_OF_KIND[event.kind],
            subject=f"order {event.order.number}",
            what=event.message,
            why=str((event.details or {}).get("reason", "")),
        )


def _security_entries(filters: AuditFilters, bounds: dict):
    if filters.order or (filters.action and filters.action not in ("locked_out", "unlocked")):
        return
    events = SecurityEvent.objects.select_related("actor")
    if filters.action:
        events = events.filter(kind=filters.action)
    if filters.who:
        events = events.filter(
            Q(actor__username__icontains=filters.who) | Q(username__icontains=filters.who)
        )
    events = events.filter(**{f"created_at__{op}": value for op, value in bounds.items()})
    for event in events.order_by("-created_at", "-id").iterator(chunk_size=500):
        parts = [f"user {event.username}" if event.username else ""]
        parts.append(f"address {event.ip_address}" if event.ip_address else "")
        subject = " ".join(part for part in parts if part)
        yield AuditEntry(
            at=event.created_at,
            who=_person(event.actor) or event.actor_label or "system",
            action=event.kind,
            subject=subject,
            what=event.message,
            why=event.reason,
        )


def _api_key_entries(filters: AuditFilters, bounds: dict, action: str, field: str):
    if filters.order or (filters.action and filters.action != action):
        return
    keys = ApiKey.objects.select_related("user").filter(**{f"{field}__isnull": False})
    if filters.who:
        keys = keys.filter(user__username__icontains=filters.who)
    keys = keys.filter(**{f"{field}__{op}": value for op, value in bounds.items()})
    verb = "created" if action == "api_key_created" else "revoked"
    for key in keys.order_by(f"-{field}", "-id").iterator(chunk_size=500):
        yield AuditEntry(
            at=getattr(key, field),
            # Keys are made and revoked on the command line (createapikey, revokeapikey).
            who="command line",
            action=action,
            subject=f"API key {key.name} ({key.prefix}…) of {_person(key.user)}",
            what=f"API key {verb}",
            why="",
        )


def audit_entries(filters: AuditFilters = AuditFilters(), *, limit: int | None = None):  # noqa: B008 (frozen)
    """Every matching intervention, newest first (all of them when `limit` is None)."""
    bounds = _bounds(filters)
    streams = [
        _order_entries(filters, bounds),
        _security_entries(filters, bounds),
        _api_key_entries(filters, bounds, "api_key_created", "created_at"),
        _api_key_entries(filters, bounds, "api_key_revoked", "revoked_at"),
    ]
    merged = heapq.merge(*streams, key=lambda entry: entry.at, reverse=True)
    return list(islice(merged, limit)) if limit is not None else merged
