"""Releasing a hold: a void is outbox work.

`authorization_void` only records the decision (a void step with its idempotency key and
purpose) in the caller's transaction, and wakes the worker when it commits. The worker
claims the step under the order's lock, checks the hold is still live and that no capture
is in flight on it (a void is never aimed at a captured authorization), calls the gateway
outside any transaction and records the answer under the lock again. A 5xx is retried
with backoff; a timeout makes the step unknown, and reconciliation asks the gateway what
became of the hold (`void_step_reconcile`), settling with the same `void_step_settle`.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.orders.events import LAST_ACTION_FIELDS
from orderdesk.orders.models import EventKind
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import (
    GatewayResult,
    GatewayTimeout,
    PaymentError,
    ResultStatus,
)
from orderdesk.payments.models import (
    STEP_OPEN,
    Authorization,
    AuthorizationStatus,
    GatewayStep,
    StepKind,
    StepStatus,
)
from orderdesk.payments.services.holds import hold_truth_record
from orderdesk.payments.services.steps import (
    LEASE,
    hold_fetch,
    retry_delay,
    step_lock,
    step_unknown,
    step_wake,
    steps_due,
    steps_reconcile,
)
from orderdesk.payments.services.transitions import authorization_transition, step_transition
from orderdesk.payments.state import LIVE, payment_state_refresh

logger = logging.getLogger("orderdesk.payments")


def authorization_void(
    authorization: Authorization, *, actor=None, reason: str = ""
) -> Authorization:
    """Decide to release a live hold: record a void step (safe inside the caller's
    transaction, with the order locked); the worker delivers it once this commits."""
    with transaction.atomic():
        authorization = lock_one(Authorization.objects.select_related("order"), pk=authorization.pk)
        if authorization.status not in LIVE or _void_open(authorization):
            return authorization
        step = GatewayStep.objects.create(
            kind=StepKind.VOID,
            authorization=authorization,
            order=authorization.order,
            currency=authorization.currency,
            idempotency_key=f"void-{authorization.pk}-{uuid.uuid4().hex[:16]}",
            purpose=(reason or "the hold is no longer wanted")[:300],
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now(),
        )
        transaction.on_commit(lambda: step_wake(step.pk))
    return authorization


def authorizations_void_all(order, *, actor=None, reason: str = "") -> None:
    for authorization in Authorization.objects.filter(order=order, status__in=LIVE):
        authorization_void(authorization, actor=actor, reason=reason)


def _void_open(authorization: Authorization) -> bool:
    return authorization.steps.filter(kind=StepKind.VOID, status__in=STEP_OPEN).exists()


def void_step_send(step_id: int) -> str:
    """Deliver one void step: claim, call the gateway, record the answer."""
    step = _void_claim(step_id)
    if isinstance(step, str):
        return step  # not sent: skipped, deferred or cancelled
    authorization = step.authorization
    try:
        result = get_gateway(authorization.gateway).void(
            reference=authorization.gateway_reference, idempotency_key=step.idempotency_key
        )
        if result.status != ResultStatus.VOIDED:
            # Refused: the gateway's own record of the hold says what is true now.
            result = _refusal_truth(step, result)
    except GatewayTimeout as error:
        return step_unknown(step_id, str(error))
    except PaymentError as error:
        return _void_retry(step_id, str(error))
    return void_step_settle(step_id, result)


def _refusal_truth(step: GatewayStep, refusal: GatewayResult) -> GatewayResult:
    truth = hold_fetch(step)
    if truth.status == ResultStatus.AUTHORIZED:
        return refusal  # still held, yet refused: the refusal stands
    return truth


@transaction.atomic
def _void_claim(step_id: int) -> GatewayStep | str:
    step, authorization = step_lock(step_id)
    moment = now()
    if step.status != StepStatus.PENDING:
        return "skipped"
    if (step.claimed_until and step.claimed_until > moment) or (
        step.next_attempt_at and step.next_attempt_at > moment
    ):
        return "skipped"  # being delivered, or its retry is queued for later
    if authorization.status not in LIVE:
        _void_cancel(step, authorization)
        return StepStatus.CANCELLED
    if authorization.steps.filter(kind=StepKind.CAPTURE, status__in=STEP_OPEN).exists():
        # A capture of this hold is in flight: wait for its answer, never void under it.
        _void_defer(step, "a capture of this authorization is being confirmed")
        return "deferred"
    step.attempts += 1
    step.claimed_until = moment + LEASE
    step.save(update_fields=["attempts", "claimed_until", "updated_at"])
    transaction.on_commit(lambda: step_wake(step_id, delay=LEASE))  # if this worker dies
    return step


def _void_cancel(step: GatewayStep, authorization: Authorization) -> None:
    status = AuthorizationStatus(authorization.status).label.lower()
    step_transition(
        step,
        StepStatus.CANCELLED,
        kind=EventKind.NOTE,
        message=f"Void not sent: the authorization is {status} already",
    )
    payment_state_refresh(step.order, also=LAST_ACTION_FIELDS)


def _void_defer(step: GatewayStep, reason: str) -> None:
    delay = retry_delay(max(step.attempts, 1))
    step.last_error, step.next_attempt_at, step.claimed_until = reason, now() + delay, None
    step.save(update_fields=["last_error", "next_attempt_at", "claimed_until", "updated_at"])
    transaction.on_commit(lambda: step_wake(step.pk, delay=delay))


@transaction.atomic
def _void_retry(step_id: int, reason: str) -> str:
    """The gateway could not be reached (nothing happened there): try again after the backoff."""
    step, _ = step_lock(step_id)
    if step.status != StepStatus.PENDING:
        return step.status
    _void_defer(step, reason[:500])
    logger.warning("void step %s failed (%s); retry at %s", step_id, reason, step.next_attempt_at)
    return "retrying"


@transaction.atomic
def void_step_settle(step_id: int, result: GatewayResult) -> str:
    """Record what became of a void (its answer, or the gateway's record of the hold after a
    refusal or a lost answer): the one way a void step ends, however the answer came."""
    step, authorization = step_lock(step_id)
    if step.status not in STEP_OPEN:
        return step.status  # settled already (a concurrent delivery or reconciliation)
    if result.status == ResultStatus.VOIDED:
        _voided(step, authorization)
    elif result.status in (ResultStatus.CAPTURED, ResultStatus.EXPIRED):
        hold_truth_record(authorization, result, key=step.idempotency_key)
        _void_failed(step, f"the gateway shows the authorization {result.status}")
    else:
        reason = result.message or result.decline_code or "no reason given"
        _void_failed(step, reason)
    payment_state_refresh(step.order, also=LAST_ACTION_FIELDS)
    return step.status


def _voided(step: GatewayStep, authorization: Authorization) -> None:
    step_transition(step, StepStatus.SUCCEEDED)
    if authorization.status in LIVE:
        authorization_transition(
            authorization,
            AuthorizationStatus.VOIDED,
            kind=EventKind.AUTHORIZATION_VOIDED,
            message=f"Authorization voided: {step.purpose}",
            actor=step.created_by,
            details={"step": step.pk},
        )


def _void_failed(step: GatewayStep, reason: str) -> None:
    step.last_error = reason[:500]
    step_transition(
        step,
        StepStatus.FAILED,
        kind=EventKind.NOTE,
        message=f"The gateway refused to void the authorization: {reason}",
        fields=("last_error",),
    )


def void_step_reconcile(step: GatewayStep) -> str:
    """Settle a void whose answer was lost: the gateway's record of the hold tells whether
    it happened; a hold it still keeps is voided again (the same idempotency key)."""
    result = hold_fetch(step)
    if result.status == ResultStatus.AUTHORIZED:
        return _void_due_again(step.pk)
    return void_step_settle(step.pk, result)


@transaction.atomic
def _void_due_again(step_id: int) -> str:
    step, _ = step_lock(step_id)
    if step.status != StepStatus.UNKNOWN:
        return step.status
    step.next_attempt_at = None
    step_transition(step, StepStatus.PENDING, fields=("next_attempt_at",))
    transaction.on_commit(lambda: step_wake(step_id))
    return StepStatus.PENDING


def void_steps_reconcile() -> int:
    """Settle every void whose answer was lost (the worker's schedule runs this)."""
    return steps_reconcile(StepKind.VOID, void_step_reconcile)


def void_steps_deliver() -> dict[str, int]:
    """Deliver every due void now, in this process: reconcile the unknown ones, then send
    the pending ones (the worker's schedule runs this; tests call it). Counts by outcome."""
    outcomes: dict[str, int] = {}
    for status, act in ((StepStatus.UNKNOWN, void_step_reconcile), (StepStatus.PENDING, None)):
        for step in steps_due(StepKind.VOID, status, now()).select_related("authorization"):
            try:
                outcome = act(step) if act else void_step_send(step.pk)
            except PaymentError:
                logger.warning("void step %s: the gateway could not tell yet", step.pk)
                outcome = "deferred"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
