"""The sandbox gateway's public endpoints: card tokenization, the PayPal-style approval page,
and the storefront's own authorization call. They answer 404 unless the sandbox gateway is
in use (`ORDERDESK_GATEWAY` or `ORDERDESK_GATEWAYS`), so that with Stripe or PayPal no
orderdesk URL takes a card number.

They stand in for a gateway's own hosted pieces (Stripe.js tokenization, PayPal's approval
page): card details are posted here by the browser and never reach orderdesk's forms.
"""

from __future__ import annotations

import json
from functools import wraps
from pathlib import Path

from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from orderdesk.common.gateway_settings import sandbox_in_use, sandbox_serves
from orderdesk.common.ratelimit import address_key, tokenize_rate
from orderdesk.sandbox import server
from orderdesk.sandbox.cards import CardRejected
from orderdesk.sandbox.models import SandboxTransaction


def _error(field: str, reason: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": {"field": field, "reason": reason}}, status=status)


def sandbox_only(view, method: str = ""):
    """The view exists only while the sandbox serves payments (by `method`, when given)."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not (sandbox_serves(method) if method else sandbox_in_use()):
            raise Http404("the sandbox gateway is not in use")
        return view(request, *args, **kwargs)

    return guarded


def sandbox_cards_only(view):
    """Card tokenization exists only while cards go to the sandbox: with Stripe for cards
    (even with the sandbox for PayPal) no orderdesk URL takes a card number."""
    return sandbox_only(view, "card")


def sandbox_paypal_only(view):
    return sandbox_only(view, "paypal")


@sandbox_cards_only
@csrf_exempt  # a gateway's tokenization endpoint takes no cookie; it holds nothing to forge
@require_POST
@never_cache
@ratelimit(group="sandbox.tokens", key=address_key, rate=tokenize_rate)  # card testing
@sensitive_variables("payload", "number", "cvc")
@sensitive_post_parameters()
def tokens(request):
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return _error("body", "Send the card as a JSON object.")
    if not isinstance(payload, dict):
        return _error("body", "Send the card as a JSON object.")
    number = str(payload.get("number", ""))
    cvc = str(payload.get("cvc", ""))
    try:
        exp_month = int(payload.get("exp_month", 0))
        exp_year = int(payload.get("exp_year", 0))
    except (TypeError, ValueError):
        return _error("exp_month", "The expiry month and year are numbers.")
    try:
        token = server.tokenize_card(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
    except CardRejected as rejected:
        return _error(rejected.field, rejected.reason)
    return JsonResponse({"token": token})


_CARD_FORM_SCRIPT = Path(__file__).resolve().parent / "card-form.js"


@sandbox_cards_only
@require_GET
def card_form_script(request):
    """The sandbox's card script, served (not a static file) only while the sandbox takes
    cards, like the tokenization it posts to."""
    response = FileResponse(_CARD_FORM_SCRIPT.open("rb"), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response


@sandbox_paypal_only
@never_cache
@require_http_methods(["GET", "POST"])
def paypal_approve(request, reference: str):
    """A stand-in for PayPal's approval page: the payer logs in and approves or cancels."""
    order = SandboxTransaction.objects.filter(
        reference=reference, kind=SandboxTransaction.Kind.PAYPAL_ORDER
    ).first()
    if order is None:
        raise Http404("unknown PayPal order")
    if request.method == "POST":
        approve = request.POST.get("decision") == "approve"
        email = request.POST.get("payer_email", "").strip() or "buyer@example.com"
        server.paypal_order_decide(reference=reference, approve=approve, payer_email=email)
        target = order.return_url
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/"
        separator = "&" if "?" in target else "?"
        outcome = "approved" if approve else "cancelled"
        return HttpResponseRedirect(f"{target}{separator}paypal={outcome}&token={reference}")
    return render(request, "sandbox/paypal_approve.html", {"paypal_order": order})


def _json_object(request) -> dict | None:
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


@sandbox_only
@csrf_exempt  # the storefront's server calls it, as it would call its gateway
@require_POST
@never_cache
@ratelimit(group="sandbox.tokens", key=address_key, rate=tokenize_rate)
def authorizations(request):
    """The storefront's side: authorize a token at checkout and answer the reference that
    the storefront then sends with the order to orderdesk (`POST /api/orders`)."""
    payload = _json_object(request)
    if payload is None:
        return _error("body", "Send a JSON object with token, amount and currency.")
    key = request.headers.get("Idempotency-Key", "")
    if not key or len(key) > 100:
        return _error("Idempotency-Key", "Send an Idempotency-Key header of up to 100 characters.")
    amount, currency = payload.get("amount"), str(payload.get("currency", "USD"))
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 10**11:
        return _error("amount", "The amount is a positive integer in minor units.")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        return _error("currency", "The currency is an ISO 4217 code such as USD.")
    record = server.authorize(
        amount=amount,
        currency=currency,
        token=str(payload.get("token", ""))[:4000],
        idempotency_key=f"storefront:{key}",
    )
    return JsonResponse(
        {
            "reference": record.reference,
            "status": record.status,
            "amount": record.amount,
            "currency": record.currency,
            "card_brand": record.card_brand,
            "card_last4": record.card_last4,
            "payer_email": record.payer_email,
            "decline_code": record.decline_code,
            "authorized_at": record.created_at.isoformat(),
        },
        status=201 if record.status == "authorized" else 402,
    )
