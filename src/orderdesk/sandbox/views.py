"""The sandbox gateway's public endpoints: card tokenization and the PayPal-style approval page.

They stand in for a gateway's own hosted pieces (Stripe.js tokenization, PayPal's approval
page): card details are posted here by the browser and never reach orderdesk's forms.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from orderdesk.common.ratelimit import address_key, tokenize_rate
from orderdesk.sandbox import server
from orderdesk.sandbox.cards import CardRejected
from orderdesk.sandbox.models import SandboxTransaction


def _error(field: str, reason: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": {"field": field, "reason": reason}}, status=status)


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
