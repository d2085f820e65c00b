"""The customer's requests through a link: one at a time (a claim), routed to its approval."""

from __future__ import annotations

from functools import cache

from django.db import connection

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.links.services.approval import price_increase_approve, reauthorization_approve
from orderdesk.links.services.records import (
    CLAIM_TIMEOUT,
    CUSTOMER,
    CheckoutResult,
    LinkBusy,
    LinkUnavailable,
)
from orderdesk.orders.events import event_record
from orderdesk.orders.models import EventKind, PaymentMethod


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
    if _claimed(link.pk, moment):
        link.processing_since = moment
        return moment
    link.refresh_from_db()
    if link.status == LinkStatus.OPEN and moment < link.expires_at:
        raise LinkBusy("Another payment with this link is being processed.")
    raise LinkUnavailable


def _claimed(link_id: int, moment) -> bool:
    """The claim, as a compare-and-set: an open, unexpired link nobody holds (or whose
    holder's claim is stale) is taken. One prepared statement: compiling the same filter
    with its OR through the ORM cost more than running it, on every customer's payment."""
    adapt = connection.ops.adapt_datetimefield_value
    stale = adapt(moment - CLAIM_TIMEOUT)
    with connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(connection.ops.quote_name),
            [adapt(moment), link_id, LinkStatus.OPEN.value, adapt(moment), stale],
        )
        return cursor.rowcount > 0


@cache
def _claim_sql(quote) -> str:
    since, expires = quote("processing_since"), quote("expires_at")
    return (
        f"UPDATE {quote(PaymentLink._meta.db_table)} SET {since} = %s "  # noqa: S608 (names from the model)
        f"WHERE {quote('id')} = %s AND {quote('status')} = %s AND {expires} > %s "
        f"AND ({since} IS NULL OR {since} < %s)"
    )


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


def link_paypal_start(*, link: PaymentLink, return_url: str) -> tuple[str, str]:
    """Start the PayPal approval step: (payment token to authorize with, where to send the payer)."""
    from orderdesk.payments.gateways import get_gateway
    from orderdesk.payments.gateways.base import Capability

    if link.status != LinkStatus.OPEN or now() >= link.expires_at:
        raise LinkUnavailable
    gateway = get_gateway(method=PaymentMethod.PAYPAL)
    if Capability.PAYPAL_APPROVAL not in gateway.capabilities:
        raise BusinessRuleError("PayPal is not available with this payment gateway.")
    return gateway.approval_start(amount=link.amount, currency=link.currency, return_url=return_url)
