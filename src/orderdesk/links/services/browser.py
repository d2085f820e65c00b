"""The customer's card confirmed in the browser (Stripe.js): the PaymentIntent to confirm."""

from __future__ import annotations

from orderdesk.common.clock import now
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services.records import LinkUnavailable
from orderdesk.payments.models import AuthorizationSource
from orderdesk.payments.services import card_intent_create, card_intent_release


def link_card_intent(*, link: PaymentLink):
    """A PaymentIntent for the link's amount; the confirmed id comes back as the payment
    token of `link_checkout`, which records it like any other attempt."""
    if link.status != LinkStatus.OPEN or now() >= link.expires_at:
        raise LinkUnavailable
    return card_intent_create(
        order=link.order, source=AuthorizationSource.CUSTOMER_LINK, amount=link.amount
    )


def link_card_intent_release(*, link: PaymentLink, payment_token: str) -> bool:
    """The link closed before the confirmed card could be recorded: release the hold."""
    return card_intent_release(order=link.order, payment_token=payment_token)
