"""Finishing a customer's approval once the gateway's answer is recorded.

One code path, whether the answer came in time (the customer's request) or later
(reconciliation, through the hook that `apps.LinksConfig.ready` registers in payments). It
runs in the transaction that recorded the answer, with the order locked: the order and the
link are re-read under that lock, and a hold that is no longer wanted (the link revoked or
expired, the order cancelled, shipped or replaced, the amount secured already) is released
instead of completing anything.
"""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_columns
from orderdesk.common.money import format_minor
from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.links.services.attempts import _attempt_failure_record
from orderdesk.links.services.records import (
    CUSTOMER,
    CheckoutResult,
    Outcome,
    _payment_state_refresh,
    link_transition,
)
from orderdesk.links.services.replacement import price_increase_complete
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import CancelReason, EventKind, Order, OrderStatus
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import authorization_void
from orderdesk.payments.state import (
    FAILED,
    LIVE,
    CustomerLinkFacts,
    PaymentRecords,
    payment_records_read,
)

LINK_CHANGES = ("status", "processing_since", "failed_attempts", "completed_at", "result_order_id")
RELEASED_TEXT = "Your card was not charged: the hold on it is being released"
CLOSED_BECAUSE = {
    LinkStatus.COMPLETED: "the payment link was used already",
    LinkStatus.DECLINED: "the price increase was declined",
    LinkStatus.FAILED: "the payment link was locked after failed attempts",
    LinkStatus.EXPIRED: "the payment link expired",
    LinkStatus.REVOKED: "the payment link was revoked",
}


def link_authorization_finish(*, link: PaymentLink, authorization: Authorization) -> CheckoutResult:
    """What the recorded answer means for the link (inside the transaction that recorded it,
    the order locked with the authorization by `authorization_settle`). The caller's
    transaction ends with the order's payment state and last action written here."""
    order = authorization.order
    # Always the order, then its link; read into the caller's instance, whose claim ends here
    # (only the columns a link's changes write: the others never change once it is sent).
    _link_changes_read(link)
    if authorization.status in FAILED:
        result = _attempt_failure_record(link, order, authorization)
        _payment_state_refresh(order, also=LAST_ACTION_FIELDS)
        return result
    if link.status == LinkStatus.COMPLETED and link.result_order_id == order.pk:
        _payment_state_refresh(order, also=LAST_ACTION_FIELDS)
        return CheckoutResult(Outcome.APPROVED, order)  # finished already (a repeat)
    if authorization.status not in LIVE:  # released already, when the answer came late
        _payment_state_refresh(order, also=LAST_ACTION_FIELDS)
        return CheckoutResult(Outcome.RELEASED, order, f"{RELEASED_TEXT}.")
    records = payment_records_read(order)
    reason = _unwanted_because(link, order, authorization, records)
    if reason:
        return _hold_release(link, order, authorization, reason)
    if link.purpose == LinkPurpose.PRICE_INCREASE:
        return _price_increase_apply(link, order, authorization)
    return _reauthorization_complete(link, order, authorization, records)


def _link_changes_read(link: PaymentLink) -> None:
    """Lock the link's row and read what may have changed since into `link`."""
    locked = lock_columns(PaymentLink, link.pk, LINK_CHANGES)
    for name in LINK_CHANGES:
        setattr(link, name, getattr(locked, name))
    if PaymentLink.result_order.is_cached(link):
        PaymentLink.result_order.field.delete_cached_value(link)


def _price_increase_apply(
    link: PaymentLink, order: Order, authorization: Authorization
) -> CheckoutResult:
    try:
        with transaction.atomic():  # a refused replacement leaves the answer recorded
            return price_increase_complete(link=link, authorization=authorization, old=order)
    except BusinessRuleError as refusal:
        return _hold_release(link, order, authorization, refusal.reason.rstrip("."))


def _unwanted_because(
    link: PaymentLink, order: Order, authorization: Authorization, records: PaymentRecords
) -> str:
    """Why the new hold is no longer wanted, read under the lock ("" while it is)."""
    if link.status != LinkStatus.OPEN:
        return CLOSED_BECAUSE[link.status]
    if order.status == OrderStatus.SHIPPED:
        return f"order {order.number} has shipped"
    if order.status == OrderStatus.CANCELLED:
        replaced = order.cancel_reason == CancelReason.REPLACED
        return f"order {order.number} was {'replaced' if replaced else 'cancelled'}"
    # A price increase asks for the new total of an order nothing is paid of yet.
    increase = link.purpose == LinkPurpose.PRICE_INCREASE
    owed = link.amount if increase else order.total - records.paid
    if records.paid > 0 and (increase or owed <= 0):
        return f"{'part of ' if increase else ''}order {order.number} is paid already"
    moment = now()
    for other in records.authorizations:
        covers = other.status in LIVE and other.expires_at and other.expires_at > moment
        newer = other.created_at >= link.created_at and other.id != authorization.pk
        if covers and newer and other.amount >= owed:
            return f"payment for order {order.number} is secured already"
    return ""


def _reauthorization_complete(
    link: PaymentLink, order: Order, authorization: Authorization, records: PaymentRecords
) -> CheckoutResult:
    """Complete the link, move the order to its group, release the holds this one replaces."""
    instrument = f" with {authorization.instrument}" if authorization.instrument else ""
    link_transition(
        link,
        LinkStatus.COMPLETED,
        text="Customer approved payment of "
        f"{format_minor(authorization.amount, authorization.currency)}{instrument}",
        order=order,
        actor_label=CUSTOMER,
        defer_last_action=True,
        result_order=order,
    )
    # The link was the newest (it was open): once completed, no link is open.
    _payment_state_refresh(
        order, also=LAST_ACTION_FIELDS, link=CustomerLinkFacts(), records=records
    )
    replaced = [
        other.id
        for other in records.authorizations
        if other.status == AuthorizationStatus.AUTHORIZED and other.id != authorization.pk
    ]
    if replaced:  # never a captured one: those are not `authorized`
        for previous in Authorization.objects.filter(pk__in=replaced).select_related("order"):
            authorization_void(previous, reason="replaced by the customer's new authorization")
    return CheckoutResult(Outcome.APPROVED, order)


def _hold_release(
    link: PaymentLink, order: Order, authorization: Authorization, reason: str
) -> CheckoutResult:
    """The customer's card was authorized for nothing: the link is not completed (an open one
    closes), the timeline says why, and the new hold is released."""
    if link.status == LinkStatus.OPEN:
        link_transition(
            link, LinkStatus.REVOKED, text=f"Payment link closed: {reason}", order=order
        )
    amount = format_minor(authorization.amount, authorization.currency)
    event_record(
        order,
        EventKind.NOTE,
        f"The customer's new authorization of {amount} is not needed ({reason}): "
        "the hold is being released",
        actor_label=CUSTOMER,
        details={"link": link.pk, "authorization": authorization.pk},
        defer_last_action=True,
    )
    _payment_state_refresh(order, also=LAST_ACTION_FIELDS)
    authorization_void(authorization, reason=f"not needed: {reason}")
    return CheckoutResult(Outcome.RELEASED, order, f"{RELEASED_TEXT}: {reason}.")


def link_authorization_settled(authorization: Authorization) -> bool:
    """Reconciliation recorded the answer of a customer's link authorization (inside its
    transaction, the order locked): finish it as the customer's request would have."""
    link = _link_of(authorization)
    if link is None:
        return False
    with transaction.atomic(savepoint=False):
        link_authorization_finish(link=link, authorization=authorization)
    return True


def _link_of(authorization: Authorization) -> PaymentLink | None:
    """The link the customer paid with: the newest of the order's links made before the
    authorization (a new link revokes the open one, and the link was open when it was
    claimed), for the same amount."""
    if authorization.source != AuthorizationSource.CUSTOMER_LINK:
        return None
    link = (
        PaymentLink.objects.filter(
            order_id=authorization.order_id, created_at__lte=authorization.created_at
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return link if link is not None and link.amount == authorization.amount else None
