"""Links that lapse: expired in batches by the worker's schedule."""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services.records import (
    CLAIM_TIMEOUT,
    _payment_state_refresh,
    links_transition_set,
)
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, Order

EXPIRE_BATCH = 1000


def _links_due(moment, **among) -> list[tuple[int, int]]:
    """(link, order) of open links past expiry that no payment is using, oldest first."""
    return list(
        PaymentLink.objects.filter(status=LinkStatus.OPEN, expires_at__lte=moment, **among)
        .exclude(processing_since__gt=moment - CLAIM_TIMEOUT)  # a payment in progress
        .order_by("expires_at")
        .values_list("pk", "order_id")[:EXPIRE_BATCH]
    )


def links_expire(at=None) -> int:
    """Expire open links past their expiry (the worker runs this on a schedule)."""
    moment = at or now()
    with transaction.atomic():
        candidates = _links_due(moment)
        if not candidates:
            return 0
        # The orders first, then their links, as every change of a link takes them: an
        # approval being finished under its order's lock never deadlocks with this. What
        # is still due once they are locked expires.
        orders = Order.objects.select_for_update().filter(pk__in={order for _, order in candidates})
        list(orders.order_by("pk").values_list("pk"))
        due = _links_due(moment, pk__in=[pk for pk, _ in candidates])
        expired = links_transition_set(
            PaymentLink.objects.filter(pk__in=[pk for pk, _ in due]),
            LinkStatus.EXPIRED,
            processing_since=None,
        )
        for order in Order.objects.filter(pk__in={order for _, order in due}):
            event_record(
                order,
                EventKind.LINK_EXPIRED,
                "Payment link expired without an answer from the customer",
                actor_label="link expiry",
            )
            _payment_state_refresh(order)
    return expired
