"""Sending the customer a link: re-trigger the cart (Approve Order Payment) or a price increase."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.money import format_minor
from orderdesk.common.permissions import require
from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.links.selectors import (
    link_expiry_from,
    link_recent_reauthorization,
    price_increase_availability,
    reauthorization_availability,
)
from orderdesk.links.services.records import (
    _payment_state_refresh,
    link_payment_in_progress,
    link_transition,
)
from orderdesk.links.tokens import token_new
from orderdesk.notifications.services import email_queue
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, Order
from orderdesk.orders.services import LineInput, lines_total
from orderdesk.payments.services import (
    outstanding_amount,
)


class ConfirmationRequired(BusinessRuleError):
    """A re-trigger shortly after the last one: the CSR confirms before a second e-mail."""


@dataclass(frozen=True)
class LinkSent:
    link: PaymentLink
    url: str


def link_url(token: str) -> str:
    return settings.ORDERDESK_BASE_URL.rstrip("/") + reverse("links:pay", args=[token])


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
            raise ConfirmationRequired(_retrigger_question(recent))
        link, token = _link_create(
            order,
            purpose=LinkPurpose.REAUTHORIZATION,
            amount=outstanding_amount(order),
            actor=actor,
        )
        _link_email(link, token)
    return LinkSent(link, link_url(token))


def _retrigger_question(recent: PaymentLink) -> str:
    minutes = int((now() - recent.created_at).total_seconds() // 60)
    when = "just now" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    if recent.status == LinkStatus.OPEN:
        consequence = "Sending again revokes the link in that e-mail."
    else:
        consequence = f"That link no longer works ({recent.get_status_display().lower()})."
    return (
        f"An Approve Order Payment link went to {recent.sent_to} {when}. {consequence} "
        "Send another e-mail anyway?"
    )


def link_send_price_increase(*, order: Order, actor, lines: list[LineInput]) -> LinkSent:
    """E-mail a new cart for new lines and prices; the order changes only if the customer agrees."""
    require(actor, "orders.send_payment_link")
    lines = [line for line in lines if line.description.strip()]
    if not lines:
        raise BusinessRuleError("Give at least one line with a description.", field="lines")
    if any(line.unit_price < 0 or line.quantity < 1 for line in lines):
        raise BusinessRuleError(
            "Prices cannot be negative and quantities start at 1.", field="lines"
        )
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
    """Revoke the order's open link (the caller holds the order's lock)."""
    for link in PaymentLink.objects.select_for_update().filter(order=order, status=LinkStatus.OPEN):
        link_transition(
            link,
            LinkStatus.REVOKED,
            text=f"Payment link sent to {link.sent_to} revoked: {reason}{_in_progress_note(link)}",
            order=order,
            actor=actor,
        )


def _in_progress_note(link: PaymentLink) -> str:
    if not link_payment_in_progress(link):
        return ""
    return (
        " (the customer's payment was at the payment service: if it is approved, "
        "the hold is released and the customer is told)"
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
    """A CSR revokes the link. While the customer's payment is at the gateway the revoke still
    holds: the approval, recorded after it under the order's lock, releases the new hold and
    tells the customer so (`link_payment_in_progress` lets the screen say it)."""
    require(actor, "orders.send_payment_link")
    order = lock_one(Order.objects, pk=link.order_id)  # always the order, then its link
    link = lock_one(PaymentLink.objects, pk=link.pk)
    if link.status != LinkStatus.OPEN:
        raise BusinessRuleError(f"The link is {link.get_status_display().lower()} already.")
    link_transition(
        link,
        LinkStatus.REVOKED,
        text=f"Payment link sent to {link.sent_to} revoked{_in_progress_note(link)}",
        order=order,
        actor=actor,
        processing_since=link.processing_since,  # the customer's request still ends its claim
    )
    _payment_state_refresh(order)
    return link
