"""The state machines of payments: an authorization, and a capture or void step.

Changes go through `payments.services.transitions` (one helper each, which checks the table,
saves and writes the timeline). The expiry sweep's set-based SQL moves to `expired` only
from the statuses this table allows (`AUTHORIZATION_MACHINE.sources(EXPIRED)`).
"""

from orderdesk.common.statemachine import StateMachine
from orderdesk.payments.models import AuthorizationStatus as A
from orderdesk.payments.models import StepStatus as S

AUTHORIZATION_MACHINE = StateMachine(
    {
        A.PENDING: {A.AUTHORIZED, A.DECLINED, A.ERROR, A.UNKNOWN},
        A.UNKNOWN: {A.AUTHORIZED, A.DECLINED, A.ERROR},
        # A partial capture leaves the rest held: it may be captured, voided or lapse.
        A.AUTHORIZED: {A.CAPTURED, A.PARTIALLY_CAPTURED, A.VOIDED, A.EXPIRED},
        A.PARTIALLY_CAPTURED: {A.CAPTURED, A.PARTIALLY_CAPTURED, A.VOIDED, A.EXPIRED},
        A.DECLINED: set(),
        A.ERROR: set(),
        # A capture in flight when the business's expiry passed: the gateway's answer wins.
        A.EXPIRED: {A.CAPTURED, A.PARTIALLY_CAPTURED},
        A.VOIDED: set(),
        A.CAPTURED: set(),
    }
)

STEP_MACHINE = StateMachine(
    {
        S.PENDING: {S.UNKNOWN, S.SUCCEEDED, S.FAILED, S.CANCELLED},
        # Reconciled: done, refused, no longer wanted, or (a void the gateway never
        # received) due again.
        S.UNKNOWN: {S.PENDING, S.SUCCEEDED, S.FAILED, S.CANCELLED},
        S.SUCCEEDED: set(),
        S.FAILED: set(),
        S.CANCELLED: set(),
    }
)
