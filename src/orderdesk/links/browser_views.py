"""The customer page's calls from the gateways' scripts (JSON, same-origin, CSRF-checked).

Stripe.js asks for a PaymentIntent to confirm (`stripe_intent`); PayPal's buttons ask for
the order the payer approves (`paypal_order`). Neither holds money; the payment is recorded
when the page then posts the confirmed PaymentIntent id (to /pay/<token>) or the approval
(to /pay/<token>/paypal/return), through the same checkout as every payment.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from orderdesk.common.errors import BusinessRuleError
from orderdesk.links import services
from orderdesk.links.selectors import link_is_usable
from orderdesk.links.services import LinkUnavailable
from orderdesk.links.views import _paypal_key, customer_page
from orderdesk.payments.errors import AuthorizationInProgress
from orderdesk.payments.gateways.base import PaymentError

logger = logging.getLogger(__name__)

UNAVAILABLE = "This payment link can no longer be used."
GATEWAY_DOWN = "We could not reach the payment service, please try again in a few minutes."


def refusal(reason: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"reason": reason}}, status=status)


def gateway_call(call):
    """Run one gateway call for a script: its JSON answer, or a refusal the page can show."""
    try:
        return JsonResponse(call())
    except LinkUnavailable:
        return refusal(UNAVAILABLE, 404)
    except AuthorizationInProgress as busy:
        return refusal(busy.reason, 409)
    except BusinessRuleError as error:
        return refusal(error.reason, 409)
    except PaymentError as error:
        logger.warning("payment gateway unavailable for a browser payment: %s", error)
        return refusal(GATEWAY_DOWN, 503)


@customer_page
@require_POST
def stripe_intent(request, token: str, link):
    if not link_is_usable(link):
        return refusal(UNAVAILABLE, 404)

    def create():
        intent = services.link_card_intent(link=link)
        return {"client_secret": intent.client_secret}

    return gateway_call(create)


@customer_page
@require_POST
def paypal_order(request, token: str, link):
    if not link_is_usable(link):
        return refusal(UNAVAILABLE, 404)
    return_url = request.build_absolute_uri(reverse("links:paypal-return", args=[token]))

    def create():
        payment_token, _ = services.link_paypal_start(link=link, return_url=return_url)
        # Only the PayPal order started here may pay for this link, in this browser.
        request.session[_paypal_key(token)] = payment_token
        return {"id": payment_token.removeprefix("paypal:")}

    return gateway_call(create)
