"""Customer payment links: re-trigger the cart, price increases that replace the order.

A link is for one order and one purpose. Sending one revokes the order's open link, writes
the link (only its token's hash), the timeline row and the e-mail in one transaction.

Paying with a link first claims it (compare-and-set on `processing_since`), so concurrent
approvals of one link (double clicks, two tabs) reach the gateway once; the payments
service's in-flight guard on the order is the second fence. The gateway is called outside
any transaction; what follows its answer is one transaction:

- re-authorization: the link completes on the same order; an earlier authorization that was
  still valid is voided only after the new one succeeded;
- price increase: the new amount is authorized on the old order (the live order the customer
  is approving; its in-flight guard serializes attempts), then in one transaction the
  replacement order is created, the authorization is moved to it, the old order is
  cancelled (replaced), the link completes and `order.replaced` is queued for the CRM. The
  old order's authorization is voided after commit.

A declined or failed card leaves the order as it was (the attempt is on its timeline) and
lets the customer try again; the third failure locks the link and the order needs manual
payment processing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.money import format_minor
from orderdesk.common.permissions import require
from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.links.selectors import (
    customer_link_facts,
    link_expiry_from,
    link_recent_reauthorization,
    price_increase_availability,
    reauthorization_availability,
)
from orderdesk.links.tokens import token_new
from orderdesk.notifications.services import email_queue
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order
from orderdesk.orders.services import LineInput, lines_total
from orderdesk.payments.errors import AuthorizationInProgress, NothingToAuthorize
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import (
    authorization_attempt,
    authorization_settle,
    authorization_void,
    outstanding_amount,
)
from orderdesk.payments.state import LIVE, CustomerLinkFacts, payment_state_refresh

logger = logging.getLogger("orderdesk.links")

MAX_FAILED_ATTEMPTS = 3
# A claim older than this belongs to a request that died; the link may be used again.
CLAIM_TIMEOUT = timedelta(minutes=2)
CUSTOMER = "customer"


class ConfirmationRequired(BusinessRuleError):
    """A re-trigger shortly after the last one: the CSR confirms before a second e-mail."""


class LinkUnavailable(Exception):
    """Unknown, expired, used, revoked or locked: the customer sees the neutral page."""


class LinkBusy(Exception):
    """Another request is paying with this link right now."""


class Outcome:
    APPROVED = "approved"
    DECLINED = "declined"  # the customer declined a price increase
    ATTEMPT_FAILED = "attempt_failed"  # the card was refused; the customer may try again
    LOCKED = "locked"  # the last attempt failed: manual payment processing
    PENDING = "pending"  # the gateway did not answer; reconciliation will tell


@dataclass(frozen=True)
class LinkSent:
    link: PaymentLink
    url: str


@dataclass(frozen=True)
class CheckoutResult:
    outcome: str
    order: Order
    message: str = ""
    attempts_left: int = 0


def _payment_state_refresh(order: Order, *, link: CustomerLinkFacts | None = None, **options):
    """Store the order's payment state with the link facts it depends on: every change of
    a link passes through here, so the order never disagrees with its links. A caller that
    knows the facts (the newest link just completed) passes them and saves a query."""
    return payment_state_refresh(order, link=link or customer_link_facts(order), **options)


def link_url(token: str) -> str:
    return settings.ORDERDESK_BASE_URL.rstrip("/") + reverse("links:pay", args=[token])


# --- sending ---------------------------------------------------------------------------


def link_send_reauthorization(*, order: Order, actor, confirm: bool = False) -> LinkSent:
    """Re-trigger the cart: e-mail an Approve Order Payment link for the amount owed."""
    require(actor, "orders.send_payment_link")
    with transaction.atomic():
        order = lock_one(Order.objects.select_related("account"), pk=order.pk)
        availability = reauthorization_availability(order)
        if not availability.allowed:
            raise BusinessRuleError(availability.reason)
        recent = link_recent_reauthorization(order)
        if recent is not None and not confirm:
            minutes = max(int((now() - recent.created_at).total_seconds() // 60), 1)
            raise ConfirmationRequired(
                f"An Approve Order Payment link went to {recent.sent_to} {minutes} minute"
                f"{'s' if minutes != 1 else ''} ago. Send another e-mail anyway?"
            )
        link, token = _link_create(
            order,
            purpose=LinkPurpose.REAUTHORIZATION,
            amount=outstanding_amount(order),
            actor=actor,
        )
        _link_email(link, token)
    return LinkSent(link, link_url(token))


def link_send_price_increase(*, order: Order, actor, lines: list[LineInput]) -> LinkSent:
    """E-mail a new cart for new lines and prices; the order changes only if the customer agrees."""
    require(actor, "orders.send_payment_link")
    lines = [line for line in lines if line.description.strip()]
    if not lines:
        raise BusinessRuleError("Give at least one line with a description.", field="lines")
    if any(line.unit_price < 0 or line.quantity < 1 for line in lines):
        raise BusinessRuleError("Prices cannot be negative and quantities start at 1.", field="lines")
    with transaction.atomic():
        order = lock_one(Order.objects.select_related("account"), pk=order.pk)
        availability = price_increase_availability(order)
        if not availability.allowed:
            raise BusinessRuleError(availability.reason)
        new_total = lines_total(lines)
        if new_total <= order.total:
            raise BusinessRuleError(
                f"The new total ({format_minor(new_total, order.currency)}) must be higher than "
                f"the current total ({format_minor(order.total, order.currency)}).",
                field="lines",
            )
        link, token = _link_create(
            order,
            purpose=LinkPurpose.PRICE_INCREASE,
            amount=new_total,
            actor=actor,
            proposed_lines=[_line_dict(line) for line in lines],
            proposed_total=new_total,
        )
        _link_email(link, token)
    return LinkSent(link, link_url(token))


def _line_dict(line: LineInput) -> dict:
    return {
        "description": line.description.strip()[:300],
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "sku": line.sku,
    }


def _link_create(
    order: Order,
    *,
    purpose: str,
    amount: int,
    actor,
    proposed_lines: list | None = None,
    proposed_total: int | None = None,
) -> tuple[PaymentLink, str]:
    _links_revoke_open(order, actor=actor, reason="a newer link was sent")
    token, digest = token_new()
    moment = now()
    link = PaymentLink.objects.create(
        order=order,
        purpose=purpose,
        proposed_lines=proposed_lines or [],
        proposed_total=proposed_total,
        amount=amount,
        currency=order.currency,
        token_hash=digest,
        sent_to=order.account.ecommerce_email,
        created_by=actor if getattr(actor, "pk", None) else None,
        created_at=moment,
        expires_at=link_expiry_from(moment),
    )
    label = "Approve Order Payment" if purpose == LinkPurpose.REAUTHORIZATION else "Price increase"
    event_record(
        order,
        EventKind.LINK_SENT,
        f"{label} link for {format_minor(amount, order.currency)} sent to {link.sent_to}; "
        f"expires {timezone.localtime(link.expires_at):%b %d, %Y}",
        actor=actor,
        details={"link": link.pk, "purpose": purpose},
    )
    _payment_state_refresh(order)
    return link, token


def _links_revoke_open(order: Order, *, actor, reason: str) -> None:
    for link in PaymentLink.objects.select_for_update().filter(order=order, status=LinkStatus.OPEN):
        link.status = LinkStatus.REVOKED
        link.save(update_fields=["status"])
        event_record(
            order,
            EventKind.LINK_REVOKED,
            f"Payment link sent to {link.sent_to} revoked: {reason}",
            actor=actor,
            details={"link": link.pk},
        )


def _link_email(link: PaymentLink, token: str) -> None:
    from orderdesk.links.selectors import link_summary

    template = (
        "reauthorization" if link.purpose == LinkPurpose.REAUTHORIZATION else "price_increase"
    )
    email_queue(
        to=link.sent_to,
        template=template,
        context={**link_summary(link), "link_url": link_url(token)},
        dedupe_key=f"link-{link.pk}-sent",
        order=link.order,
    )


@transaction.atomic
def link_revoke(*, link: PaymentLink, actor) -> PaymentLink:
    require(actor, "orders.send_payment_link")
    link = lock_one(PaymentLink.objects, pk=link.pk)
    if link.status != LinkStatus.OPEN:
        raise BusinessRuleError(f"The link is {link.get_status_display().lower()} already.")
    link.status = LinkStatus.REVOKED
    link.save(update_fields=["status"])
    event_record(
        link.order,
        EventKind.LINK_REVOKED,
        f"Payment link sent to {link.sent_to} revoked",
        actor=actor,
        details={"link": link.pk},
    )
    _payment_state_refresh(link.order)
    return link


# --- the customer's side ---------------------------------------------------------------


def link_opened_record(link: PaymentLink) -> None:
    """The first visit goes on the timeline (compare-and-set: once, whatever the clicks)."""
    moment = now()
    if PaymentLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(opened_at=moment):
        link.opened_at = moment
        event_record(
            link.order,
            EventKind.LINK_OPENED,
            "Customer opened the payment link",
            actor_label=CUSTOMER,
            details={"link": link.pk},
        )


def _link_claim(link: PaymentLink):
    """Take the link for one payment attempt, or say why not."""
    moment = now()
    claimed = (
        PaymentLink.objects.filter(pk=link.pk, status=LinkStatus.OPEN, expires_at__gt=moment)
        .filter(Q(processing_since__isnull=True) | Q(processing_since__lt=moment - CLAIM_TIMEOUT))
        .update(processing_since=moment)
    )
    if claimed:
        link.processing_since = moment
        return moment
    link.refresh_from_db()
    if link.status == LinkStatus.OPEN and moment < link.expires_at:
        raise LinkBusy("Another payment with this link is being processed.")
    raise LinkUnavailable


def _link_release(link: PaymentLink, claim) -> None:
    if link.processing_since != claim:
        return  # the attempt's outcome released it, in the same UPDATE that recorded it
    PaymentLink.objects.filter(pk=link.pk, processing_since=claim).update(processing_since=None)


def link_checkout(*, link: PaymentLink, payment_token: str, method: str) -> CheckoutResult:
    """The customer pays: re-authorization or price increase, by card or PayPal."""
    claim = _link_claim(link)
    try:
        if link.purpose == LinkPurpose.PRICE_INCREASE:
            return price_increase_approve(link=link, payment_token=payment_token, method=method)
        return reauthorization_approve(link=link, payment_token=payment_token, method=method)
    finally:
        _link_release(link, claim)


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


def reauthorization_approve(
    *, link: PaymentLink, payment_token: str, method: str
) -> CheckoutResult:
    """Authorize the same amount on the same order; void the earlier one only after success.

    The gateway's answer, the link's outcome, the timeline and the order's payment state
    are recorded in one transaction.
    """
    order = link.order
    authorizations = list(Authorization.objects.filter(order=order))
    moment = now()
    earlier = [
        authorization for authorization in authorizations if authorization.is_valid_at(moment)
    ]
    authorization = _authorization_made_with(link, authorizations)
    result = None
    if authorization is None:  # else an earlier attempt succeeded but did not finish
        authorization, result = _authorization_attempt(link, order, payment_token, method)
        if result is None:
            return CheckoutResult(Outcome.PENDING, order)
    with transaction.atomic():
        if result is not None:
            authorization = authorization_settle(authorization, result, state_refresh=False)
            order = authorization.order  # read under the authorization's lock
        else:
            order = lock_one(Order.objects, pk=order.pk)
        if authorization.status != AuthorizationStatus.AUTHORIZED:
            outcome = _attempt_failure_record(link, order, authorization)
        else:
            outcome = CheckoutResult(Outcome.APPROVED, order)
            if _link_complete(link, result_order=order):
                event_record(
                    order,
                    EventKind.APPROVED,
                    f"Customer approved payment of {format_minor(authorization.amount, authorization.currency)}"
                    f"{' with ' + authorization.instrument if authorization.instrument else ''}",
                    actor_label=CUSTOMER,
                    details={"link": link.pk, "authorization": authorization.pk},
                    defer_last_action=True,
                )
            else:
                outcome = None  # closed under us (the claim makes this unreachable)
        # The link was the newest (it was open): once completed, no link is open.
        completed = outcome is not None and outcome.outcome == Outcome.APPROVED
        facts = CustomerLinkFacts() if completed else None
        _payment_state_refresh(order, also=LAST_ACTION_FIELDS, link=facts)
    if outcome is None:
        raise LinkUnavailable
    if outcome.outcome != Outcome.APPROVED:
        return outcome
    for previous in earlier:
        if previous.pk != authorization.pk:
            authorization_void(previous, reason="replaced by the customer's new authorization")
    return outcome


def price_increase_approve(*, link: PaymentLink, payment_token: str, method: str) -> CheckoutResult:
    """Authorize the new total, then replace the old order by a new one in one transaction."""
    from orderdesk.crm.services import crm_message_queue
    from orderdesk.payments.transfers import authorization_transfer
    from orderdesk.workflows.replacement import order_replace

    old = link.order
    authorization = _authorize(link, old, payment_token, method)
    if authorization.status != AuthorizationStatus.AUTHORIZED:
        return _attempt_unsuccessful(link, authorization)
    lines = [LineInput(**line) for line in link.proposed_lines]
    try:
        with transaction.atomic():
            link = lock_one(PaymentLink.objects, pk=link.pk)
            superseded = list(
                Authorization.objects.filter(order=old, status__in=LIVE).exclude(
                    pk=authorization.pk
                )
            )
            new = order_replace(original=old, lines=lines, actor_label=CUSTOMER)
            authorization_transfer(authorization=authorization, to_order=new, actor_label=CUSTOMER)
            _link_complete(link, result_order=new)
            text = (
                f"Customer approved the price increase to {format_minor(new.total, new.currency)}: "
                f"order {old.number} replaced by {new.number}"
            )
            for order in (old, new):
                event_record(
                    order, EventKind.APPROVED, text, actor_label=CUSTOMER, details={"link": link.pk}
                )
            # The link closed: the replaced order (as order_replace left it) records so.
            _payment_state_refresh(new.supersedes)
            crm_message_queue(
                topic="order.replaced",
                payload=_replaced_payload(old, new),
                dedupe_key=f"order.replaced:link-{link.pk}",
                order=new,
            )
    except (BusinessRuleError, LinkUnavailable) as refusal:
        # The old order or the link changed under us: release the new money.
        reason = getattr(refusal, "reason", "the link was closed")
        authorization_void(authorization, reason=f"price increase not applied: {reason}")
        _link_close(link, LinkStatus.REVOKED, f"Payment link closed: {reason}")
        raise LinkUnavailable from refusal
    for previous in superseded:
        authorization_void(previous, reason=f"order replaced by {new.number}")
    return CheckoutResult(Outcome.APPROVED, new)


def _replaced_payload(old: Order, new: Order) -> dict:
    return {
        "old_number": old.number,
        "new_number": new.number,
        "old_crm_id": old.crm_id,
        "account_crm_id": old.account.crm_id,
        "old_total": old.total,
        "new_total": new.total,
        "currency": new.currency,
    }


def _link_complete(link: PaymentLink, *, result_order: Order) -> bool:
    """Complete the link and end the claim (compare-and-set: only an open link completes)."""
    moment = now()
    completed = PaymentLink.objects.filter(pk=link.pk, status=LinkStatus.OPEN).update(
        status=LinkStatus.COMPLETED,
        completed_at=moment,
        processing_since=None,
        result_order=result_order,
    )
    if completed:
        link.status, link.completed_at, link.processing_since = LinkStatus.COMPLETED, moment, None
        link.result_order = result_order
    return bool(completed)


def _link_close(link: PaymentLink, status: str, text: str) -> None:
    with transaction.atomic():
        link = lock_one(PaymentLink.objects, pk=link.pk)
        if link.status != LinkStatus.OPEN:
            return
        link.status = status
        link.save(update_fields=["status"])
        event_record(link.order, EventKind.LINK_REVOKED, text, details={"link": link.pk})
        _payment_state_refresh(link.order)


def _attempt_unsuccessful(link: PaymentLink, authorization: Authorization) -> CheckoutResult:
    order = link.order
    if authorization.status == AuthorizationStatus.UNKNOWN:
        return CheckoutResult(Outcome.PENDING, order)
    with transaction.atomic():
        result = _attempt_failure_record(link, order, authorization)
        _payment_state_refresh(order, also=LAST_ACTION_FIELDS)
    return result


def _attempt_failure_record(
    link: PaymentLink, order: Order, authorization: Authorization
) -> CheckoutResult:
    """Count a refused attempt on the link and end the claim (inside a transaction; the
    caller refreshes the order's payment state with its last action)."""
    locked = lock_one(PaymentLink.objects, pk=link.pk)
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


@transaction.atomic
def price_increase_decline(*, link: PaymentLink) -> CheckoutResult:
    """The customer declines the new cart: the link closes and a CSR follows up."""
    link = lock_one(PaymentLink.objects, pk=link.pk)
    moment = now()
    if (
        link.purpose != LinkPurpose.PRICE_INCREASE
        or link.status != LinkStatus.OPEN
        or moment >= link.expires_at
    ):
        raise LinkUnavailable
    if link.processing_since and link.processing_since > moment - CLAIM_TIMEOUT:
        raise LinkBusy("A payment with this link is being processed.")
    link.status = LinkStatus.DECLINED
    link.completed_at = moment
    link.save(update_fields=["status", "completed_at"])
    order = link.order
    event_record(
        order,
        EventKind.DECLINED,
        f"Customer declined the price increase to {format_minor(link.amount, link.currency)}: "
        "a CSR must contact the customer",
        actor_label=CUSTOMER,
        details={"link": link.pk},
    )
    _payment_state_refresh(order)
    return CheckoutResult(Outcome.DECLINED, order)


def link_paypal_start(*, link: PaymentLink, return_url: str) -> tuple[str, str]:
    """Start the PayPal approval step: (payment token to authorize with, where to send the payer)."""
    from orderdesk.payments.gateways import get_gateway
    from orderdesk.payments.gateways.base import Capability

    if link.status != LinkStatus.OPEN or now() >= link.expires_at:
        raise LinkUnavailable
    gateway = get_gateway()
    if Capability.PAYPAL_APPROVAL not in gateway.capabilities:
        raise BusinessRuleError("PayPal is not available with this payment gateway.")
    return gateway.approval_start(amount=link.amount, currency=link.currency, return_url=return_url)


# --- upkeep ----------------------------------------------------------------------------

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
