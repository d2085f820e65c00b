"""What a gateway tells orderdesk by webhook about a hold it made: voided, expired,
captured or reauthorized there. Recorded once per event id, on the authorization, the
order's payment state and its timeline, under the authorization's row lock."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.money import format_minor
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order
from orderdesk.payments.gateways.events import HoldChange, WebhookEvent
from orderdesk.payments.models import (
    LIVE,
    Authorization,
    AuthorizationStatus,
    GatewayEvent,
    GatewayEventOutcome,
)
from orderdesk.payments.services.holds import capture_record, captured_amount
from orderdesk.payments.services.transitions import authorization_transition
from orderdesk.payments.state import payment_state_refresh

ACTOR_LABEL = "gateway"


def gateway_event_record(event: WebhookEvent) -> GatewayEvent:
    """Record a verified event; a second delivery of the same event id changes nothing."""
    existing = GatewayEvent.objects.filter(gateway=event.gateway, event_id=event.event_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _record(event)
    except IntegrityError:  # the same event delivered twice at once: the other one won
        return GatewayEvent.objects.get(gateway=event.gateway, event_id=event.event_id)


def _record(event: WebhookEvent) -> GatewayEvent:
    received = GatewayEvent.objects.create(
        gateway=event.gateway,
        event_id=event.event_id,
        kind=event.kind[:100],
        reference=event.reference[:100],
        outcome=GatewayEventOutcome.IGNORED,
        received_at=now(),
    )
    if not event.change:
        return received
    authorization = _hold_find(event)
    if authorization is None:
        received.outcome = _unfound_outcome(event)
    else:
        # The order first, as shipping and cancellation lock it: a capture orderdesk is
        # recording right now is then seen here as done, never counted twice.
        lock_one(Order.objects, pk=authorization.order_id)
        authorization = lock_one(Authorization.objects.select_related("order"), pk=authorization.pk)
        received.authorization = authorization
        received.outcome = _apply(authorization, event)
    received.save(update_fields=["authorization", "outcome"])
    return received


def _unfound_outcome(event: WebhookEvent) -> str:
    """A live hold orderdesk asked for in a browser and no authorization records: the
    browser may still post it back (a pending authorization is that post under way), so
    the worker records or releases it later (`gateway_events_unrecorded`)."""
    if not event.order_reference or event.change != HoldChange.REAUTHORIZED:
        return GatewayEventOutcome.UNKNOWN_REFERENCE
    being_recorded = Authorization.objects.filter(
        gateway=event.gateway, instrument_reference=event.reference
    )
    if being_recorded.exists():
        return GatewayEventOutcome.NO_CHANGE
    return GatewayEventOutcome.UNRECORDED_HOLD


def gateway_events_unrecorded(*, received_before, limit: int = 100) -> list[GatewayEvent]:
    """Holds orderdesk asked for that no authorization recorded when the gateway told of
    them, oldest first (from their partial index)."""
    return list(
        GatewayEvent.objects.filter(
            outcome=GatewayEventOutcome.UNRECORDED_HOLD, received_at__lt=received_before
        ).order_by("received_at", "pk")[:limit]
    )


def gateway_event_settle(*, event_pk: int, outcome: str) -> bool:
    """What became of an unrecorded hold, once (compare-and-set: False if already settled)."""
    unrecorded = GatewayEvent.objects.filter(
        pk=event_pk, outcome=GatewayEventOutcome.UNRECORDED_HOLD
    )
    return bool(unrecorded.update(outcome=outcome))


def _hold_find(event: WebhookEvent) -> Authorization | None:
    """The hold the event is about: by its reference, or, for a reauthorization that made
    a new hold (PayPal), the live hold it renews (the earlier id, or the same PayPal order)."""
    holds = Authorization.objects.filter(gateway=event.gateway).only("pk", "order_id")
    found = holds.filter(gateway_reference=event.reference).first() if event.reference else None
    if found is not None or event.change != HoldChange.REAUTHORIZED:
        return found
    if event.renews_reference:
        found = holds.filter(gateway_reference=event.renews_reference).first()
    if found is None and event.renews_order:
        tokens = [event.renews_order, f"paypal:{event.renews_order}"]
        live = holds.filter(instrument_reference__in=tokens, status__in=LIVE)
        found = live.order_by("-pk").first()
    return found


def _apply(authorization: Authorization, event: WebhookEvent) -> str:
    if authorization.status not in LIVE:
        return GatewayEventOutcome.NO_CHANGE  # orderdesk already knows the hold has ended
    if not _CHANGES[event.change](authorization, event):
        return GatewayEventOutcome.NO_CHANGE
    payment_state_refresh(authorization.order, also=LAST_ACTION_FIELDS)
    return GatewayEventOutcome.APPLIED


def _told(event: WebhookEvent) -> dict:
    return {"actor_label": ACTOR_LABEL, "details": {"gateway_event": event.event_id}}


def _voided(authorization, event) -> bool:
    authorization_transition(
        authorization,
        AuthorizationStatus.VOIDED,
        kind=EventKind.AUTHORIZATION_VOIDED,
        message=f"Authorization voided at {event.gateway}",
        **_told(event),
    )
    return True


def _expired(authorization, event) -> bool:
    authorization_transition(
        authorization,
        AuthorizationStatus.EXPIRED,
        kind=EventKind.AUTHORIZATION_EXPIRED,
        message=f"Authorization expired at {event.gateway}",
        **_told(event),
    )
    return True


def _captured(authorization, event) -> bool:
    amount = (event.amount or authorization.amount) - captured_amount(authorization)
    if amount <= 0:
        return False
    capture_record(
        authorization,
        amount=amount,
        reference=event.reference,
        key=f"webhook-{event.gateway}-{event.event_id}",
        where=f" at {event.gateway}",
        **_told(event),
    )
    return True


def _reauthorized(authorization, event) -> bool:
    """The hold renewed at the gateway: its new expiry (only ever later), the amount it now
    holds (only ever more) and, when the gateway made a new hold for it, its reference."""
    changes = _renewal_changes(authorization, event)
    if not changes:
        return False
    for field, value in changes.items():
        setattr(authorization, field, value)
    authorization.save(update_fields=[*changes, "updated_at"])
    expiry = authorization.expires_at
    text = (
        f"Authorization renewed at {event.gateway}: "
        f"{format_minor(authorization.amount, authorization.currency)}"
        + (f", good until {expiry:%b %d, %Y %H:%M} UTC" if expiry else "")
    )
    event_record(
        authorization.order,
        EventKind.AUTHORIZATION_MADE,
        text,
        actor_label=ACTOR_LABEL,
        details={"authorization": authorization.pk, "gateway_event": event.event_id},
        defer_last_action=True,
    )
    return True


def _renewal_changes(authorization, event) -> dict:
    changes = {}
    if event.reference and event.reference != authorization.gateway_reference:
        changes["gateway_reference"] = event.reference[:100]
    if event.expires_at and (
        authorization.expires_at is None or event.expires_at > authorization.expires_at
    ):
        changes["expires_at"] = event.expires_at
    if event.amount and event.amount > authorization.amount:
        changes["amount"] = event.amount
    return changes


_CHANGES = {
    HoldChange.VOIDED: _voided,
    HoldChange.EXPIRED: _expired,
    HoldChange.CAPTURED: _captured,
    HoldChange.REAUTHORIZED: _reauthorized,
}
