"""What every change of a link shares: its outcome, closing it, and the order's link facts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.selectors import (
    customer_link_facts,
)
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, Order
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


def _link_complete(link: PaymentLink, *, result_order: Order) -> bool:
    """Complete the link and end the claim (compare-and-set: only an open link completes)."""
    moment = now()
    completed = PaymentLink.objects.filter(pk=link.pk, status=LinkStatus.OPEN).update(
        status=LinkStatus.COMPLETED,
        completed_at=moment,
        processing_since=None,
        result_order=result_order,
    )
    if completed:
        link.status, link.completed_at, link.processing_since = LinkStatus.COMPLETED, moment, None
        link.result_order = result_order
    return bool(completed)


def _link_close(link: PaymentLink, status: str, text: str) -> None:
    with transaction.atomic():
        link = lock_one(PaymentLink.objects, pk=link.pk)
        if link.status != LinkStatus.OPEN:
            return
        link.status = status
        link.save(update_fields=["status"])
        event_record(link.order, EventKind.LINK_REVOKED, text, details={"link": link.pk})
        _payment_state_refresh(link.order)
