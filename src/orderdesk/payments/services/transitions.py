"""The one way an authorization's or a gateway step's status changes: checked, saved, timelined."""

from __future__ import annotations

from orderdesk.common.clock import now
from orderdesk.common.updates import instance_update
from orderdesk.orders.events import event_record
from orderdesk.payments.models import Authorization, GatewayStep, StepStatus
from orderdesk.payments.statuses import AUTHORIZATION_MACHINE, STEP_MACHINE


def authorization_transition(
    authorization: Authorization,
    to: str,
    *,
    kind: str,
    message: str,
    actor=None,
    actor_label: str = "",
    fields: tuple[str, ...] = (),
    details: dict | None = None,
) -> Authorization:
    """Move the authorization along its table, save it (with `fields` the caller also set)
    and write the timeline row. The row's last action is left to the caller's
    `payment_state_refresh(order, also=LAST_ACTION_FIELDS)`, so the order is written once."""
    AUTHORIZATION_MACHINE.check(authorization.status, to)
    authorization.status = to
    instance_update(authorization, ("status", "updated_at", *fields))
    event_record(
        authorization.order,
        kind,
        message,
        actor=actor,
        actor_label=actor_label,
        details={"authorization": authorization.pk, **(details or {})},
        defer_last_action=True,
    )
    return authorization


def step_transition(
    step: GatewayStep,
    to: str,
    *,
    kind: str | None = None,
    message: str = "",
    actor_label: str = "worker",
    fields: tuple[str, ...] = (),
) -> GatewayStep:
    """Move a capture or void step along its table and save it; with `kind`, write the
    timeline row (deferred last action, as above)."""
    STEP_MACHINE.check(step.status, to)
    step.status = to
    if to not in (StepStatus.PENDING, StepStatus.UNKNOWN):
        step.settled_at = now()
    step.claimed_until = None
    step.save(update_fields=["status", "settled_at", "claimed_until", "updated_at", *fields])
    if kind is not None:
        event_record(
            step.order,
            kind,
            message,
            actor_label=actor_label,
            details={"step": step.pk, "authorization": step.authorization_id},
            defer_last_action=True,
        )
    return step
