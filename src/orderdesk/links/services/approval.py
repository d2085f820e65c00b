"""The customer's answer through a link: approve (re-authorize, or a price increase) or decline."""

from __future__ import annotations

from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.money import format_minor
from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.links.services.attempts import _authorization_attempt
from orderdesk.links.services.finish import link_authorization_finish
from orderdesk.links.services.records import (
    CUSTOMER,
    CheckoutResult,
    LinkBusy,
    LinkUnavailable,
    Outcome,
    _payment_state_refresh,
    link_payment_in_progress,
    link_transition,
)
from orderdesk.orders.models import Order
from orderdesk.payments.services import authorization_settle


def link_approve(*, link: PaymentLink, payment_token: str, method: str) -> CheckoutResult:
    """Authorize the link's amount, then record the answer and finish the approval in one
    transaction (`finish.link_authorization_finish`, as reconciliation does with an answer
    that came late). Nothing is voided before the new hold is recorded."""
    authorization, result = _authorization_attempt(link, link.order, payment_token, method)
    if result is None:
        return CheckoutResult(Outcome.PENDING, link.order)  # reconciliation finishes it
    with transaction.atomic():
        authorization = authorization_settle(authorization, result, state_refresh=False)
        return link_authorization_finish(link=link, authorization=authorization)


def reauthorization_approve(
    *, link: PaymentLink, payment_token: str, method: str
) -> CheckoutResult:
    """Authorize the same amount on the same order; void the earlier hold only after success."""
    return link_approve(link=link, payment_token=payment_token, method=method)


def price_increase_approve(*, link: PaymentLink, payment_token: str, method: str) -> CheckoutResult:
    """Authorize the new total, then replace the old order by a new one in one transaction."""
    return link_approve(link=link, payment_token=payment_token, method=method)


@transaction.atomic
def price_increase_decline(*, link: PaymentLink) -> CheckoutResult:
    """The customer declines the new cart: the link closes and a CSR follows up."""
    order = lock_one(Order.objects, pk=link.order_id)  # always the order, then its link
    link = lock_one(PaymentLink.objects, pk=link.pk)
    if (
        link.purpose != LinkPurpose.PRICE_INCREASE
        or link.status != LinkStatus.OPEN
        or now() >= link.expires_at
    ):
        raise LinkUnavailable
    if link_payment_in_progress(link):
        raise LinkBusy("A payment with this link is being processed.")
    link_transition(
        link,
        LinkStatus.DECLINED,
        text=f"Customer declined the price increase to {format_minor(link.amount, link.currency)}: "
        "a CSR must contact the customer",
        order=order,
        actor_label=CUSTOMER,
    )
    _payment_state_refresh(order)
    return CheckoutResult(Outcome.DECLINED, order)
