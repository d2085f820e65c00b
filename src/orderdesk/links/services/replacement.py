"""A price increase the customer approved: the old order replaced by a new one, once."""

from __future__ import annotations

from orderdesk.common.money import format_minor
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services.records import (
    CUSTOMER,
    CheckoutResult,
    Outcome,
    _payment_state_refresh,
    link_transition,
)
from orderdesk.orders.events import LAST_ACTION_FIELDS, event_record
from orderdesk.orders.models import EventKind, Order
from orderdesk.orders.services import LineInput
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.services import authorization_void
from orderdesk.payments.transfers import authorization_transfer
from orderdesk.workflows.replacement import order_replace


def price_increase_complete(
    *, link: PaymentLink, authorization: Authorization, old: Order
) -> CheckoutResult:
    """Create the new order, cancel the old one, link them and move the new hold to the new
    order; complete the link; tell the CRM; release the old order's holds. Inside the
    transaction that recorded the answer, with the old order and the link locked."""
    from orderdesk.crm.services import crm_message_queue

    superseded = list(
        Authorization.objects.filter(order=old, status=AuthorizationStatus.AUTHORIZED).exclude(
            pk=authorization.pk
        )
    )
    lines = [LineInput(**line) for line in link.proposed_lines]
    new = order_replace(original=old, lines=lines, actor_label=CUSTOMER)
    old = new.supersedes  # as the replacement left it: cancelled
    authorization_transfer(authorization=authorization, to_order=new, actor_label=CUSTOMER)
    text = (
        f"Customer approved the price increase to {format_minor(new.total, new.currency)}: "
        f"order {old.number} replaced by {new.number}"
    )
    link_transition(
        link, LinkStatus.COMPLETED, text=text, order=old, actor_label=CUSTOMER, result_order=new
    )
    event_record(new, EventKind.APPROVED, text, actor_label=CUSTOMER, details={"link": link.pk})
    _payment_state_refresh(old, also=LAST_ACTION_FIELDS)  # the link closed
    crm_message_queue(
        topic="order.replaced",
        payload=_replaced_payload(old, new),
        dedupe_key=f"order.replaced:link-{link.pk}",
        order=new,
    )
    for previous in superseded:  # never a captured one: those are not `authorized`
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
