"""Links that lapse: expired in batches by the worker's schedule."""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services.records import CLAIM_TIMEOUT, _payment_state_refresh
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, Order

EXPIRE_BATCH = 1000


def links_expire(at=None) -> int:
    """Expire open links past their expiry (the worker runs this on a schedule)."""
    moment = at or now()
    with transaction.atomic():
        due = list(
            PaymentLink.objects.filter(status=LinkStatus.OPEN, expires_at__lte=moment)
            .exclude(processing_since__gt=moment - CLAIM_TIMEOUT)  # a payment in progress
            .order_by("expires_at")
            .values_list("pk", "order_id")[:EXPIRE_BATCH]
        )
        if not due:
            return 0
        expired = PaymentLink.objects.filter(
            pk__in=[pk for pk, _ in due], status=LinkStatus.OPEN
        ).update(status=LinkStatus.EXPIRED, processing_since=None)
        for order in Order.objects.filter(pk__in={order_id for _, order_id in due}):
            event_record(
                order,
                EventKind.LINK_EXPIRED,
                "Payment link expired without an answer from the customer",
                actor_label="link expiry",
            )
            _payment_state_refresh(order)
    return expired
