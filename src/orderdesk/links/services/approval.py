"""What an approved or declined link does: re-authorize the order, or replace it by a new one."""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.money import format_minor
from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.links.services.attempts import (
    _attempt_failure_record,
    _attempt_unsuccessful,
    _authorization_attempt,
    _authorization_made_with,
    _authorize,
)
from orderdesk.links.services.records import (
    CLAIM_TIMEOUT,
    CUSTOMER,
    CheckoutResult,
    LinkBusy,
    LinkUnavailable,
    Outcome,
    _link_close,
    _link_complete,
    _payment_state_refresh,
)
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order
from orderdesk.orders.services import LineInput
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.services import (
    authorization_settle,
    authorization_void,
)
from orderdesk.payments.state import LIVE, CustomerLinkFacts


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
