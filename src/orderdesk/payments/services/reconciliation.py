"""Reconciliation: an authorization whose answer never came is settled by asking the gateway."""

from __future__ import annotations

import logging

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.sql import status_in
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, OrderStatus
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import (
    GatewayResult,
    PaymentError,
    ResultStatus,
)
from orderdesk.payments.models import (
    Authorization,
    AuthorizationStatus,
)
from orderdesk.payments.services.authorization import (
    authorization_settle,
    authorization_unknown_mark,
)
from orderdesk.payments.services.voids import authorization_void
from orderdesk.payments.settlement import settled_hook_run
from orderdesk.payments.state import LIVE

logger = logging.getLogger(__name__)

# Beyond the gateway's budget, how long a request may still take to record the answer.
ABANDONED_MARGIN_SECONDS = 60


def authorization_reconcile(authorization: Authorization) -> Authorization:
    """Ask the gateway what became of an `unknown` authorization and record it."""
    if authorization.status != AuthorizationStatus.UNKNOWN:
        return authorization
    result = get_gateway(authorization.gateway).fetch(
        idempotency_key=authorization.idempotency_key,
        reference=authorization.instrument_reference,
    )
    if result.status == ResultStatus.NOT_FOUND:
        result = GatewayResult(
            status=ResultStatus.ERROR,
            decline_code="not_received",
            message="The gateway never received this authorization",
        )
    with transaction.atomic():
        # Several workers may reconcile the same authorization: only the first records it.
        current = lock_one(Authorization.objects, pk=authorization.pk)
        if current.status != AuthorizationStatus.UNKNOWN:
            return current
        settled = authorization_settle(current, result)
        event_record(
            settled.order,
            EventKind.AUTHORIZATION_RECONCILED,
            f"Reconciled with the gateway: {settled.status}",
            details={"authorization": settled.pk},
        )
        # The workflow that asked finishes as if the answer had come in time (a link
        # approval completes, or releases a hold no longer wanted), in this transaction.
        finished = settled_hook_run(settled)
    if finished:
        settled.refresh_from_db()
    elif settled.status in LIVE and settled.order.status == OrderStatus.CANCELLED:
        # Cancelling voided what was live then; this hold surfaced later and must go too.
        settled = authorization_void(settled, reason="order was cancelled")
    return settled


def authorizations_pending_abandoned() -> int:
    """A `pending` authorization older than the gateway's budget lost the process that was
    waiting for its answer (killed mid-call, a crash): it is `unknown` from now on, and
    reconciled like any other. Returns how many."""
    from datetime import timedelta

    from orderdesk.payments.gateways.transport import budget_seconds

    cutoff = now() - timedelta(seconds=budget_seconds() + ABANDONED_MARGIN_SECONDS)
    abandoned = Authorization.objects.filter(
        status=AuthorizationStatus.PENDING, created_at__lte=cutoff
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(abandoned):
        marked = authorization_unknown_mark(
            pk,
            message="The process waiting for the gateway's answer stopped",
            timeline="No answer was recorded in time; the outcome will be reconciled",
        )
        count += marked is not None
    return count


def authorizations_reconcile_unknown(*, older_than_seconds: int = 60) -> int:
    """Reconcile every unknown authorization, and every pending one whose caller is gone
    (the worker runs this on a schedule)."""
    from datetime import timedelta

    authorizations_pending_abandoned()
    cutoff = now() - timedelta(seconds=older_than_seconds)
    unknown = Authorization.objects.filter(
        status_in([AuthorizationStatus.UNKNOWN]), created_at__lte=cutoff
    )  # from the partial index authorization_unknown
    count = 0
    for authorization in unknown.iterator():
        try:
            authorization_reconcile(authorization)
        except PaymentError:
            # The gateway could not tell yet; the next run tries again. One stuck row must
            # not keep the others unknown.
            logger.warning(
                "reconciliation of authorization %s deferred", authorization.pk, exc_info=True
            )
            continue
        count += 1
    return count
