"""What capture and void steps share: the lock, the lease, asking the gateway, the relay.

A step is claimed under the order's lock (the order first, then the step, then the
authorization, as shipping, cancellation and webhooks lock them), the gateway is called
outside any transaction, and the answer is recorded under the same locks again. A claim
is a lease: a worker killed during the call leaves the step for the relay to wake.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.outbox import rows_relay, task_wake
from orderdesk.common.retry import backoff
from orderdesk.orders.models import EventKind, Order
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import GatewayResult, PaymentError
from orderdesk.payments.models import Authorization, GatewayStep, StepKind, StepStatus
from orderdesk.payments.services.transitions import step_transition

logger = logging.getLogger("orderdesk.payments")

LEASE = timedelta(minutes=5)


def retry_delay(attempts: int) -> timedelta:
    """ORDERDESK_GATEWAY_RETRY_SECONDS, doubling per failed attempt, at most 6 hours."""
    return backoff(attempts, first_seconds=settings.ORDERDESK_GATEWAY_RETRY_SECONDS)


def step_lock(step_id: int) -> tuple[GatewayStep, Authorization]:
    """Lock the step's order, the step and its authorization, in that order (in a transaction)."""
    order_id = GatewayStep.objects.values_list("order_id", flat=True).get(pk=step_id)
    order = lock_one(Order.objects, pk=order_id)
    step = lock_one(GatewayStep.objects, pk=step_id)
    authorization = lock_one(Authorization.objects, pk=step.authorization_id)
    step.order = authorization.order = order  # one instance: its last action is written once
    step.authorization = authorization
    return step, authorization


def hold_fetch(step: GatewayStep) -> GatewayResult:
    """What the gateway knows now of the hold the step acted on (AUTHORIZED when it still
    holds it: the step did not happen). Raises PaymentError when it cannot tell yet."""
    authorization = step.authorization
    return get_gateway(authorization.gateway).lookup(
        reference=authorization.gateway_reference, idempotency_key=step.idempotency_key
    )


def step_wake(step_id: int, *, delay: timedelta | None = None) -> str:
    """Queue the step's delivery (after `delay` where the backend can defer); keep the
    task's id on the step for the relay. Returns the id."""
    from orderdesk.payments.tasks import gateway_step_deliver

    if delay and not gateway_step_deliver.get_backend().supports_defer:
        return ""  # a backend that cannot wait: the relay wakes the step when it is due
    run_after = now() + delay if delay else None
    task_id = task_wake(gateway_step_deliver, run_after=run_after, step_id=step_id)
    GatewayStep.objects.filter(pk=step_id).update(task_id=task_id)
    return task_id


@transaction.atomic
def step_unknown(step_id: int, reason: str) -> str:
    """No answer came: reconciliation asks the gateway later (after the backoff)."""
    step, _ = step_lock(step_id)
    if step.status != StepStatus.PENDING:
        return step.status
    step.last_error = reason[:500]
    step.next_attempt_at = now() + retry_delay(step.attempts)
    message = f"The gateway did not answer the {step.kind}; it will be confirmed with the gateway"
    kind = EventKind.AUTHORIZATION_UNKNOWN if step.kind == StepKind.CAPTURE else EventKind.NOTE
    step_transition(
        step,
        StepStatus.UNKNOWN,
        kind=kind,
        message=message,
        fields=("last_error", "next_attempt_at"),
    )
    _order_last_action_save(step.order)
    return StepStatus.UNKNOWN


def _order_last_action_save(order: Order) -> None:
    from orderdesk.orders.events import LAST_ACTION_FIELDS

    order.save(update_fields=list(LAST_ACTION_FIELDS))


def steps_due(kind: str, status: str, moment):
    """Open steps of one kind and status whose next attempt is due and that nobody holds."""
    return (
        GatewayStep.objects.filter(kind=kind, status=status)
        .exclude(next_attempt_at__gt=moment)
        .exclude(claimed_until__gt=moment)
    )


def void_steps_relay(*, limit: int = 500) -> int:
    """Wake every due void whose delivery task is missing, failed or stale (the worker's
    schedule runs this), so a killed worker leaves no hold unreleased. Returns how many."""
    from orderdesk.payments.tasks import gateway_step_deliver

    moment = now()
    return rows_relay(
        steps_due(StepKind.VOID, StepStatus.PENDING, moment),
        gateway_step_deliver,
        argument="step_id",
        moment=moment,
        limit=limit,
        log=lambda row, task: logger.warning(
            "void step %s relayed: its task %s was lost", row, task or "-"
        ),
    )


def steps_abandoned(kind: str) -> int:
    """A capture step still `pending` after the gateway's budget lost the process waiting
    for its answer (killed mid-call): it is `unknown` from now on. (A pending void is the
    worker's: its lease and the relay take care of it.) Returns how many."""
    from orderdesk.payments.gateways.transport import budget_seconds
    from orderdesk.payments.services.reconciliation import ABANDONED_MARGIN_SECONDS

    cutoff = now() - timedelta(seconds=budget_seconds() + ABANDONED_MARGIN_SECONDS)
    abandoned = GatewayStep.objects.filter(
        kind=kind, status=StepStatus.PENDING, created_at__lte=cutoff
    ).values_list("pk", flat=True)
    stopped = "The process waiting for the gateway's answer stopped"
    return sum(step_unknown(pk, stopped) == StepStatus.UNKNOWN for pk in list(abandoned))


def steps_reconcile(kind: str, settle) -> int:
    """Settle every due unknown step of `kind` (and every abandoned capture) with
    `settle(step)`, which asks the gateway and records the answer. Returns how many."""
    if kind == StepKind.CAPTURE:
        steps_abandoned(kind)
    settled = 0
    due = steps_due(kind, StepStatus.UNKNOWN, now()).select_related("authorization")
    for step in due:
        try:
            settle(step)
        except PaymentError:
            # The gateway could not tell yet; the next run tries again. One stuck step
            # must not keep the others unknown.
            logger.warning("reconciliation of %s step %s deferred", kind, step.pk, exc_info=True)
            continue
        settled += 1
    return settled
