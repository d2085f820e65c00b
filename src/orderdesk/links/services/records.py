"""What every change of a link shares: its outcome, closing it, and the order's link facts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.updates import row_update
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.selectors import customer_link_facts
from orderdesk.links.statuses import CLOSED_AT_KEPT, LINK_EVENTS, LINK_STATUS_MACHINE, sources_of
from orderdesk.orders.events import event_record
from orderdesk.orders.models import Order
from orderdesk.payments.state import CustomerLinkFacts, payment_state_refresh

logger = logging.getLogger("orderdesk.links")


# A claim older than this belongs to a request that died; the link may be used again.
CLAIM_TIMEOUT = timedelta(minutes=2)


CUSTOMER = "customer"


class LinkUnavailable(Exception):
    """Unknown, expired, used, revoked or locked: the customer sees the neutral page."""


class LinkBusy(Exception):
    """Another request is paying with this link right now."""


class Outcome:
    APPROVED = "approved"
    DECLINED = "declined"  # the customer declined a price increase
    ATTEMPT_FAILED = "attempt_failed"  # the card was refused; the customer may try again
    LOCKED = "locked"  # the last attempt failed: manual payment processing
    PENDING = "pending"  # the gateway did not answer; reconciliation will tell
    GATEWAY_UNAVAILABLE = "gateway_unavailable"  # an outage: not counted, the link stays open
    RELEASED = "released"  # authorized, but no longer wanted: the new hold is being released


@dataclass(frozen=True)
class CheckoutResult:
    outcome: str
    order: Order
    message: str = ""
    attempts_left: int = 0


def _payment_state_refresh(order: Order, *, link: CustomerLinkFacts | None = None, **options):
    """Store the order's payment state with the link facts it depends on: every change of
    a link passes through here, so the order never disagrees with its links. A caller that
    knows the facts (the newest link just completed) passes them and saves a query."""
    return payment_state_refresh(order, link=link or customer_link_facts(order), **options)


def link_transition(
    link: PaymentLink,
    to: str,
    *,
    text: str,
    order: Order | None = None,
    actor=None,
    actor_label: str = "",
    defer_last_action: bool = False,
    **fields,
) -> bool:
    """The one way a link's status changes: checked against the table, written as a
    compare-and-set from the status the caller read (False, and nothing written, when
    another change came first), the claim ended, and the timeline row recorded."""
    LINK_STATUS_MACHINE.check(link.status, to)
    changes = {"status": to, "processing_since": None, **fields}
    if to in CLOSED_AT_KEPT:
        changes["completed_at"] = now()
    if not row_update(PaymentLink, link.pk, changes, expected={"status": link.status}):
        return False
    for name, value in changes.items():
        setattr(link, name, value)
    event_record(
        order or link.order,
        LINK_EVENTS[to],
        text,
        actor=actor,
        actor_label=actor_label,
        details={"link": link.pk},
        defer_last_action=defer_last_action,
    )
    return True


def links_transition_set(links: QuerySet, to: str, **fields) -> int:
    """The set-based form of `link_transition` (upkeep): only links whose status the table
    lets reach `to` move; the caller writes their timeline rows."""
    return links.filter(status__in=sources_of(to)).update(status=to, **fields)


def link_payment_in_progress(link: PaymentLink) -> bool:
    """A customer's payment with this link is at the gateway (a live claim)."""
    return bool(link.processing_since and link.processing_since > now() - CLAIM_TIMEOUT)


def _link_close(link: PaymentLink, status: str, text: str) -> None:
    """Close an open link for a reason found outside it (the order can no longer be paid)."""
    with transaction.atomic():
        order = lock_one(Order.objects, pk=link.order_id)  # always the order, then its link
        link = lock_one(PaymentLink.objects, pk=link.pk)
        if link.status != LinkStatus.OPEN:
            return
        link_transition(link, status, text=text, order=order)
        _payment_state_refresh(order)
