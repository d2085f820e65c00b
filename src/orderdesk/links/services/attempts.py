"""One attempt at the gateway through a link, and what a refused one leaves: three tries, then manual processing."""

from __future__ import annotations

from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services.records import (
    CUSTOMER,
    CheckoutResult,
    LinkBusy,
    LinkUnavailable,
    Outcome,
    _link_close,
    link_transition,
)
from orderdesk.orders.models import Order
from orderdesk.payments.errors import AuthorizationInProgress, NothingToAuthorize
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import authorization_attempt
from orderdesk.payments.state import gateway_outage

MAX_FAILED_ATTEMPTS = 3


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


GATEWAY_UNAVAILABLE_TEXT = (
    "We could not reach the payment service, please try again in a few minutes."
)


def _attempt_failure_record(
    link: PaymentLink, order: Order, authorization: Authorization
) -> CheckoutResult:
    """Count a refused attempt on the link (locked by the caller) and end the claim, inside
    the transaction that recorded the answer; the caller refreshes the order's payment state
    with its last action. A gateway outage ends the claim without counting."""
    if gateway_outage(authorization):
        return _attempt_not_counted(link, order)
    attempts = link.failed_attempts + 1
    attempts_left = max(MAX_FAILED_ATTEMPTS - attempts, 0)
    message = _refusal_text(authorization)
    if link.status != LinkStatus.OPEN:  # closed meanwhile: nothing left to count on
        return CheckoutResult(Outcome.ATTEMPT_FAILED, order, message, 0)
    if attempts_left == 0:
        link_transition(
            link,
            LinkStatus.FAILED,
            text=f"Payment link locked after {attempts} failed attempts: "
            "contact the customer and process the payment manually",
            order=order,
            actor_label=CUSTOMER,
            defer_last_action=True,
            failed_attempts=attempts,
        )
        return CheckoutResult(Outcome.LOCKED, order, message)
    PaymentLink.objects.filter(pk=link.pk).update(failed_attempts=attempts, processing_since=None)
    link.failed_attempts, link.processing_since = attempts, None
    return CheckoutResult(Outcome.ATTEMPT_FAILED, order, message, attempts_left)


def _attempt_not_counted(link: PaymentLink, order: Order) -> CheckoutResult:
    """The gateway could not be reached: the card was never declined, so the attempt is not
    the customer's; the link stays open (staff read the error on the timeline)."""
    PaymentLink.objects.filter(pk=link.pk).update(processing_since=None)
    link.processing_since = None
    return CheckoutResult(Outcome.GATEWAY_UNAVAILABLE, order, GATEWAY_UNAVAILABLE_TEXT)


def _refusal_text(authorization: Authorization) -> str:
    if authorization.status == AuthorizationStatus.ERROR:
        return "The payment could not be processed."
    reasons = {
        "insufficient_funds": "The card was declined for insufficient funds.",
        "payer_action_required": "PayPal did not approve the payment.",
    }
    return reasons.get(authorization.decline_code, "The payment was declined.")
