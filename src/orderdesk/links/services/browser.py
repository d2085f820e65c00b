"""The customer's card confirmed in the browser (Stripe.js): the PaymentIntent to confirm,
the release of one the link can no longer take, and the holds a browser never posted back.

A customer who closes the window once Stripe.js confirmed the card leaves a hold orderdesk
asked for but never heard of. Stripe tells of it (`payment_intent.amount_capturable_updated`,
recorded by the webhook as an unrecorded hold); after `ADOPT_AFTER`, time enough for the
browser's own post, the worker's schedule records it through the link as if the customer
had posted it (the link still open), or records and releases it (the link closed, or the
intent made by the virtual terminal, whose CSR never saw it succeed), once per event.
"""

from __future__ import annotations

from datetime import timedelta

from orderdesk.common.clock import now
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.selectors import link_is_usable, link_open_for_order
from orderdesk.links.services.checkout import link_checkout
from orderdesk.links.services.records import LinkBusy, LinkUnavailable
from orderdesk.orders.models import Order, PaymentMethod
from orderdesk.payments.gateways.base import PaymentError, ResultStatus
from orderdesk.payments.models import AuthorizationSource, GatewayEventOutcome
from orderdesk.payments.services import (
    card_intent_create,
    card_intent_read,
    card_intent_recorded,
    card_intent_release,
    gateway_event_settle,
    gateway_events_unrecorded,
)

# The browser posts the confirmed intent back within seconds of Stripe's confirmation (3-D
# Secure comes before it); the webhook usually arrives first, so the worker waits this long.
ADOPT_AFTER = timedelta(minutes=5)
LINK_SOURCES = ("", AuthorizationSource.CUSTOMER_LINK)  # "": made before the source was kept


def link_card_intent(*, link: PaymentLink):
    """A PaymentIntent for the link's amount; the confirmed id comes back as the payment
    token of `link_checkout`, which records it like any other attempt."""
    if not link_is_usable(link):
        raise LinkUnavailable
    return card_intent_create(
        order=link.order, source=AuthorizationSource.CUSTOMER_LINK, amount=link.amount
    )


def link_card_intent_release(*, link: PaymentLink, payment_token: str) -> bool:
    """The link closed before the confirmed card could be recorded: release the hold."""
    link.refresh_from_db(fields=["status", "expires_at"])
    closed = "expired" if link.status == LinkStatus.OPEN else link.get_status_display().lower()
    return card_intent_release(
        order=link.order, payment_token=payment_token, reason=f"the payment link was {closed}"
    )


def browser_holds_adopt() -> int:
    """The worker's schedule: settle each hold confirmed in a browser that no authorization
    recorded, once its grace has passed. Returns how many were settled."""
    settled = 0
    for event in gateway_events_unrecorded(received_before=now() - ADOPT_AFTER):
        outcome = _browser_hold_adopt(event.reference)
        if outcome and gateway_event_settle(event_pk=event.pk, outcome=outcome):
            settled += 1
    return settled


def _browser_hold_adopt(payment_token: str) -> str | None:
    """What became of one hold (a GatewayEventOutcome); None: ask again at the next run."""
    try:
        intent = card_intent_read(payment_token=payment_token)
    except PaymentError:
        return None  # the gateway did not answer
    if intent is None or intent.hold.status != ResultStatus.AUTHORIZED:
        return GatewayEventOutcome.NO_CHANGE  # nothing held there any more
    order = Order.objects.filter(number=intent.order_reference).first()
    if order is None or card_intent_recorded(order=order, payment_token=payment_token):
        return GatewayEventOutcome.NO_CHANGE  # the browser's own post recorded it
    link = link_open_for_order(order) if intent.source in LINK_SOURCES else None
    if link_is_usable(link):
        try:
            link_checkout(link=link, payment_token=payment_token, method=PaymentMethod.CARD)
            return GatewayEventOutcome.APPLIED
        except LinkBusy:
            return None  # a payment through the link is under way: its outcome first
        except LinkUnavailable:
            pass  # closed meanwhile: released below
    released = card_intent_release(
        order=order,
        payment_token=payment_token,
        source=intent.source or AuthorizationSource.CUSTOMER_LINK,
        reason=_unwanted_reason(intent.source),
    )
    return GatewayEventOutcome.APPLIED if released else GatewayEventOutcome.NO_CHANGE


def _unwanted_reason(source: str) -> str:
    if source == AuthorizationSource.MANUAL:
        return "confirmed in the virtual terminal but never posted back: process the card again"
    return "confirmed in the customer's browser, never posted back, and no open link takes it"
