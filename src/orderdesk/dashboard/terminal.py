"""The virtual terminal's card fields: with Stripe, Stripe.js confirms the card the customer
reads out by phone, so the card goes from the CSR's browser to Stripe, never to orderdesk."""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from orderdesk.common.errors import BusinessRuleError
from orderdesk.dashboard.access import staff_required
from orderdesk.dashboard.selectors import order_for_screen
from orderdesk.links.payment_page import payment_fields
from orderdesk.payments.gateways.base import PaymentError
from orderdesk.payments.models import AuthorizationSource
from orderdesk.payments.services import card_intent_create, outstanding_amount

logger = logging.getLogger(__name__)


def terminal_fields(order, actions, *, paid: int | None = None) -> dict:
    """The card entry of the order screen (nothing when the user may not process cards);
    `paid`, the amount paid when the screen has read it already."""
    if not actions.process_card:
        return {}
    fields = payment_fields(
        amount=lambda: outstanding_amount(order) if paid is None else max(order.total - paid, 0),
        currency=order.currency,
        intent_url=reverse("dashboard:order-card-intent", args=[order.number]),
    )
    return {"card_entry": fields["card_entry"]}


@require_POST
@staff_required("orders.process_card")
def order_card_intent(request, number: str):
    """A PaymentIntent for the amount owed, for Stripe.js to confirm (JSON for the script)."""
    order = order_for_screen(number)
    try:
        intent = card_intent_create(
            order=order, source=AuthorizationSource.MANUAL, actor=request.user
        )
    except BusinessRuleError as refusal:
        return JsonResponse({"error": {"reason": refusal.reason}}, status=409)
    except PaymentError as error:
        logger.warning("payment gateway unavailable for the virtual terminal: %s", error)
        reason = "The payment gateway could not be reached. Try again in a moment."
        return JsonResponse({"error": {"reason": reason}}, status=503)
    return JsonResponse({"client_secret": intent.client_secret})
