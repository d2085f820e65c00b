"""The customer's pages: /pay/<token>. Thin: parse, call one service, render.

Anything but an open, unexpired link shows the same neutral page (status 404) that names
no order. After an attempt the outcome is kept in a signed cookie of the customer's browser,
sent only to the link's pages, so that only the browser that paid sees the confirmation of a
link that is now used.
"""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.money import format_minor
from orderdesk.links import services
from orderdesk.links.forms import CheckoutForm
from orderdesk.links.models import LinkPurpose, LinkStatus
from orderdesk.links.payment_page import gateway_scripts_allow, payment_fields
from orderdesk.links.ratelimit import request_allowed
from orderdesk.links.selectors import link_by_token, link_is_usable, link_summary
from orderdesk.links.services import LinkBusy, LinkUnavailable, Outcome
from orderdesk.links.tokens import token_hash

OUTCOME_TEMPLATES = {
    Outcome.APPROVED: "links/outcome_approved.html",
    Outcome.DECLINED: "links/outcome_declined.html",
    Outcome.LOCKED: "links/outcome_locked.html",
    Outcome.PENDING: "links/outcome_pending.html",
    Outcome.RELEASED: "links/outcome_released.html",
}


def _unavailable(request):
    return render(request, "links/unavailable.html", status=404)


@never_cache
def not_found(request):
    return _unavailable(request)


def _busy(request):
    return render(request, "links/busy.html", status=409)


def customer_page(view, *, checkout: bool = False):
    """Rate limits, no caching, no framing; the link (usable or not) is passed on. With
    `checkout`, a POST (a payment) reads only what paying needs of the link's order."""

    @wraps(view)
    @never_cache
    def wrapped(request, token: str, *args, **kwargs):
        if not request_allowed(request, token):
            response = render(request, "links/rate_limited.html", status=429)
            response["Retry-After"] = "600"
            return response
        paying = checkout and request.method == "POST"
        return view(request, token, link_by_token(token, for_checkout=paying), *args, **kwargs)

    return wrapped


def checkout_page(view):
    return customer_page(view, checkout=True)


def _outcome_cookie(token: str) -> str:
    return f"links_outcome_{token_hash(token)[:16]}"


def _outcome_salt(token: str) -> str:
    # A cookie signed for one link is worthless on another.
    return f"orderdesk.links.outcome:{token_hash(token)}"


def _outcome_remember(response, token: str, result) -> None:
    """Keep the outcome in a signed cookie of this browser, sent only to this link's pages:
    the confirmation needs no session row, and nobody else can show or forge it."""
    response.set_signed_cookie(
        _outcome_cookie(token),
        json.dumps(
            {
                "outcome": result.outcome,
                "order_number": result.order.number,
                "message": result.message,
            }
        ),
        salt=_outcome_salt(token),
        max_age=settings.SESSION_COOKIE_AGE,
        path=reverse("links:pay", args=[token]),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _outcome_remembered(request, token: str) -> dict | None:
    value = request.get_signed_cookie(
        _outcome_cookie(token),
        default=None,
        salt=_outcome_salt(token),
        max_age=settings.SESSION_COOKIE_AGE,
    )
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _after(request, token: str, result):
    if result.outcome == Outcome.GATEWAY_UNAVAILABLE:
        messages.error(request, f"{result.message} Nothing was charged.")
        return HttpResponseRedirect(reverse("links:pay", args=[token]))
    if result.outcome == Outcome.ATTEMPT_FAILED:
        left = result.attempts_left
        messages.error(
            request,
            f"{result.message} Nothing was charged. You can try again "
            f"({left} attempt{'s' if left != 1 else ''} left), with another card or PayPal.",
        )
        return HttpResponseRedirect(reverse("links:pay", args=[token]))
    response = HttpResponseRedirect(reverse("links:done", args=[token]))
    _outcome_remember(response, token, result)
    return response


def _page_context(link, **extra) -> dict:
    return {
        **link_summary(link),
        "link": link,
        "amount_text": format_minor(link.amount, link.currency),
        **extra,
    }


@checkout_page
@require_http_methods(["GET", "POST"])
def pay(request, token: str, link):
    if not link_is_usable(link):
        if link is not None and request.method == "POST":  # a card confirmed too late
            services.link_card_intent_release(
                link=link, payment_token=request.POST.get("payment_token", "")
            )
        return _unavailable(request)
    if request.method == "POST":
        form = CheckoutForm(request.POST)
        if form.is_valid():
            return _checkout(request, token, link, form.cleaned_data["payment_token"], "card")
        messages.error(request, "Enter your card details, or pay with PayPal.")
        return HttpResponseRedirect(reverse("links:pay", args=[token]))
    services.link_opened_record(link)
    fields = payment_fields(
        amount=link.amount,
        currency=link.currency,
        intent_url=reverse("links:card-intent", args=[token]),
        paypal=True,
    )
    context = _page_context(link, decline_asked=request.GET.get("decline") == "1", **fields)
    response = render(request, "links/pay.html", context)
    return gateway_scripts_allow(
        response, card=fields["card_entry"], paypal_script=fields["paypal_sdk_url"]
    )


def _checkout(request, token: str, link, payment_token: str, method: str):
    try:
        result = services.link_checkout(link=link, payment_token=payment_token, method=method)
    except LinkBusy:
        return _busy(request)
    except LinkUnavailable:
        services.link_card_intent_release(link=link, payment_token=payment_token)
        return _unavailable(request)
    return _after(request, token, result)


@customer_page
@require_POST
def decline(request, token: str, link):
    if not link_is_usable(link) or link.purpose != LinkPurpose.PRICE_INCREASE:
        return _unavailable(request)
    try:
        result = services.price_increase_decline(link=link)
    except LinkBusy:
        return _busy(request)
    except LinkUnavailable:
        return _unavailable(request)
    return _after(request, token, result)


def _paypal_key(token: str) -> str:
    return f"links:paypal:{token_hash(token)[:32]}"


@customer_page
@require_POST
def paypal_start(request, token: str, link):
    if not link_is_usable(link):
        return _unavailable(request)
    return_url = request.build_absolute_uri(reverse("links:paypal-return", args=[token]))
    try:
        payment_token, approve_url = services.link_paypal_start(link=link, return_url=return_url)
    except LinkUnavailable:
        return _unavailable(request)
    except BusinessRuleError as refusal:
        messages.error(request, refusal.reason)
        return HttpResponseRedirect(reverse("links:pay", args=[token]))
    # Only the PayPal order started here may pay for this link, in this browser.
    request.session[_paypal_key(token)] = payment_token
    return HttpResponseRedirect(approve_url)


@checkout_page
@require_http_methods(["GET", "POST"])
def paypal_return(request, token: str, link):
    if not link_is_usable(link):
        return _unavailable(request)
    expected = request.session.get(_paypal_key(token), "")
    if request.method == "POST":
        if not expected:
            return HttpResponseRedirect(reverse("links:pay", args=[token]))
        del request.session[_paypal_key(token)]
        return _checkout(request, token, link, expected, "paypal")
    returned = "paypal:" + request.GET.get("token", "")
    if request.GET.get("paypal") != "approved" or not expected or returned != expected:
        messages.info(request, "The PayPal payment was not approved. Nothing was charged.")
        return HttpResponseRedirect(reverse("links:pay", args=[token]))
    return render(request, "links/paypal_confirm.html", _page_context(link))


@customer_page
@require_GET
def done(request, token: str, link):
    remembered = _outcome_remembered(request, token)
    if not isinstance(remembered, dict) or remembered["outcome"] not in OUTCOME_TEMPLATES:
        return _unavailable(request)
    remembered = _outcome_now(remembered, link)
    return render(request, OUTCOME_TEMPLATES[remembered["outcome"]], remembered)


def _outcome_now(remembered: dict, link) -> dict:
    """A payment whose answer was late: once reconciliation completed the link with it, the
    browser that paid is told it was approved (on the order that replaced, if any)."""
    if remembered["outcome"] != Outcome.PENDING or link is None:
        return remembered
    if link.status != LinkStatus.COMPLETED or link.result_order is None:
        return remembered
    return {**remembered, "outcome": Outcome.APPROVED, "order_number": link.result_order.number}
