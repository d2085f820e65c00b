"""The payment link's status machine. Changes go through links.services.records.link_transition.

A link is open until one thing closes it for good: the customer's approval (completed), their
refusal of a price increase (declined), the last failed attempt (failed), its expiry, or a
CSR, a newer link or a closed order (revoked).
"""

from orderdesk.common.statemachine import StateMachine
from orderdesk.links.models import LinkStatus as S
from orderdesk.orders.models import EventKind

LINK_STATUS_MACHINE = StateMachine(
    {
        S.OPEN: {S.COMPLETED, S.DECLINED, S.FAILED, S.EXPIRED, S.REVOKED},
        S.COMPLETED: set(),
        S.DECLINED: set(),
        S.FAILED: set(),
        S.EXPIRED: set(),
        S.REVOKED: set(),
    }
)

# The timeline row each transition writes.
LINK_EVENTS = {
    S.COMPLETED: EventKind.APPROVED,
    S.DECLINED: EventKind.DECLINED,
    S.FAILED: EventKind.LINK_LOCKED,
    S.EXPIRED: EventKind.LINK_EXPIRED,
    S.REVOKED: EventKind.LINK_REVOKED,
}

# When the link closed, kept for the statuses that end with the customer's answer.
CLOSED_AT_KEPT = (S.COMPLETED, S.DECLINED)


def sources_of(target: str) -> list[str]:
    """Every status the table lets reach `target` (for set-based changes)."""
    return [status for status in S.values if LINK_STATUS_MACHINE.allowed(status, target)]
