"""One attempt at the gateway through a link, and what a refused one leaves: three tries, then manual processing."""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.locks import lock_one
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services.records import (
    CUSTOMER,
    CheckoutResult,
    LinkBusy,
    LinkUnavailable,
    Outcome,
    _link_close,
    _payment_state_refresh,
)
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order
from orderdesk.payments.errors import AuthorizationInProgress, NothingToAuthorize
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import (
    authorization_attempt,
    authorization_settle,
)
from orderdesk.payments.state import LIVE, gateway_outage

MAX_FAILED_ATTEMPTS = 3


def _authorization_made_with(
    link: PaymentLink, authorizations: list[Authorization]
) -> Authorization | None:
    """A live authorization from this link's checkout (a request that died, or a timeout
    that reconciliation settled as authorized)."""
    made = [
        authorization
        for authorization in authorizations
        if authorization.source == AuthorizationSource.CUSTOMER_LINK
        and authorization.created_at >= link.created_at
        and authorization.amount == link.amount
        and authorization.status in LIVE
    ]
    return max(made, key=lambda authorization: authorization.created_at, default=None)


def _authorization_attempt(link: PaymentLink, order: Order, payment_token: str, method: str):
    """Ask the gateway for the link's amount: (pending authorization, answer or None)."""
    try:
        return authorization_attempt(
            order=order,
            payment_token=payment_token,
            method=method,
            source=AuthorizationSource.CUSTOMER_LINK,
            amount=link.amount,
        )
    except AuthorizationInProgress as busy:
        raise LinkBusy(busy.reason) from busy
    except NothingToAuthorize as error:
        _link_close(link, LinkStatus.REVOKED, f"Payment link closed: {error.reason}")
        raise LinkUnavailable from error


def _authorize(link: PaymentLink, order: Order, payment_token: str, method: str) -> Authorization:
    made = _authorization_made_with(link, list(Authorization.objects.filter(order=order)))
    if made is not None:
        return made  # an earlier attempt succeeded but did not finish: never charge twice
    authorization, result = _authorization_attempt(link, order, payment_token, method)
    if result is None:
        return authorization  # unknown
    return authorization_settle(authorization, result)


def _attempt_unsuccessful(link: PaymentLink, authorization: Authorization) -> CheckoutResult:
    order = link.order
    if authorization.status == AuthorizationStatus.UNKNOWN:
        return CheckoutResult(Outcome.PENDING, order)
    with transaction.atomic():
        result = _attempt_failure_record(link, order, authorization)
        _payment_state_refresh(order, also=LAST_ACTION_FIELDS)
    return result


GATEWAY_UNAVAILABLE_TEXT = (
    "We could not reach the payment service, please try again in a few minutes."
)


def _attempt_not_counted(link: PaymentLink, locked: PaymentLink, order: Order) -> CheckoutResult:
    """The gateway could not be reached: the card was never declined, so the attempt is not
    the customer's; the link stays open (staff read the error on the timeline)."""
    locked.processing_since = None
    locked.save(update_fields=["processing_since"])
    link.processing_since = None
    return CheckoutResult(Outcome.GATEWAY_UNAVAILABLE, order, GATEWAY_UNAVAILABLE_TEXT)


def _attempt_failure_record(
    link: PaymentLink, order: Order, authorization: Authorization
) -> CheckoutResult:
    """Count a refused attempt on the link and end the claim (inside a transaction; the
    caller refreshes the order's payment state with its last action). A gateway outage
    ends the claim without counting."""
    locked = lock_one(PaymentLink.objects, pk=link.pk)
    if gateway_outage(authorization):
        return _attempt_not_counted(link, locked, order)
    locked.failed_attempts += 1
    attempts_left = max(MAX_FAILED_ATTEMPTS - locked.failed_attempts, 0)
    if attempts_left == 0:
        locked.status = LinkStatus.FAILED
    locked.processing_since = None
    locked.save(update_fields=["failed_attempts", "status", "processing_since"])
    link.processing_since = None
    if attempts_left == 0:
        event_record(
            order,
            EventKind.LINK_LOCKED,
            f"Payment link locked after {locked.failed_attempts} failed attempts: "
            "contact the customer and process the payment manually",
            actor_label=CUSTOMER,
            details={"link": link.pk},
            defer_last_action=True,
        )
    message = _refusal_text(authorization)
    if attempts_left == 0:
        return CheckoutResult(Outcome.LOCKED, order, message)
    return CheckoutResult(Outcome.ATTEMPT_FAILED, order, message, attempts_left)


def _refusal_text(authorization: Authorization) -> str:
    if authorization.status == AuthorizationStatus.ERROR:
        return "The payment could not be processed."
    reasons = {
        "insufficient_funds": "The card was declined for insufficient funds.",
        "payer_action_required": "PayPal did not approve the payment.",
    }
    return reasons.get(authorization.decline_code, "The payment was declined.")
