"""Recording what the gateway did to a hold: a capture's money record, or the truth learned
from the gateway's own record (captured from its console, lapsed) after a refusal."""

from __future__ import annotations

from django.db.models import Sum

from orderdesk.common.clock import now
from orderdesk.common.money import format_minor
from orderdesk.orders.models import EventKind
from orderdesk.payments.gateways.base import GatewayResult, ResultStatus
from orderdesk.payments.models import Authorization, AuthorizationStatus, Capture
from orderdesk.payments.services.transitions import authorization_transition
from orderdesk.payments.state import LIVE


def captured_amount(authorization: Authorization) -> int:
    return authorization.captures.aggregate(total=Sum("amount"))["total"] or 0


def capture_record(
    authorization: Authorization,
    *,
    amount: int,
    reference: str,
    key: str,
    actor=None,
    actor_label: str = "",
    where: str = "",
    details: dict | None = None,
) -> Capture:
    """The money record of a capture, and the authorization captured (in part or whole).
    Call under the order's and the authorization's locks."""
    capture = Capture.objects.create(
        authorization=authorization,
        amount=amount,
        currency=authorization.currency,
        gateway_reference=reference,
        idempotency_key=key[:100],
        captured_at=now(),
    )
    whole = captured_amount(authorization) >= authorization.amount
    authorization_transition(
        authorization,
        AuthorizationStatus.CAPTURED if whole else AuthorizationStatus.PARTIALLY_CAPTURED,
        kind=EventKind.CAPTURED,
        message=f"Captured {format_minor(amount, authorization.currency)}{where}",
        actor=actor,
        actor_label=actor_label,
        details={"capture": capture.pk, **(details or {})},
    )
    return capture


def hold_truth_record(authorization: Authorization, result: GatewayResult, *, key: str) -> None:
    """The gateway shows the hold captured, voided or lapsed where orderdesk thought it live."""
    if authorization.status not in LIVE:
        return
    ended = {
        ResultStatus.EXPIRED: (AuthorizationStatus.EXPIRED, EventKind.AUTHORIZATION_EXPIRED),
        ResultStatus.VOIDED: (AuthorizationStatus.VOIDED, EventKind.AUTHORIZATION_VOIDED),
    }
    if result.status in ended:
        status, kind = ended[result.status]
        authorization_transition(
            authorization, status, kind=kind, message=f"Authorization {status} at the gateway"
        )
        return
    amount = (result.amount or authorization.amount) - captured_amount(authorization)
    if amount > 0:
        capture_record(
            authorization,
            amount=amount,
            reference=result.reference,
            key=f"fetched-{key}",
            where=" at the gateway",
        )
