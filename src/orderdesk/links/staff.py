"""Staff actions on the order screen: re-trigger the cart, send a price increase, revoke.

Mounted under /orders/<number>/links/. Each action confirms what it did or says why not,
with a message on the order screen.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.money import format_minor
from orderdesk.links import services
from orderdesk.links.forms import LineFormSet, initial_lines
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.selectors import price_increase_availability
from orderdesk.links.services import ConfirmationRequired
from orderdesk.orders.models import Order
from orderdesk.orders.services import lines_total

PERMISSION = "orders.send_payment_link"


def order_screen_url(order: Order) -> str:
    for name in ("dashboard:order", "dashboard:order-detail"):
        try:
            return reverse(name, args=[order.number])
        except NoReverseMatch:
            continue
    return f"/orders/{order.number}/"


def _order(request, number: str) -> Order:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied(f"requires permission {PERMISSION}")
    return get_object_or_404(Order.objects.select_related("account"), number=number)


def _sent_text(sent: services.LinkSent, what: str) -> str:
    link = sent.link
    return (
        f"{what} for {format_minor(link.amount, link.currency)} e-mailed to {link.sent_to}. "
        f"The link expires on {link.expires_at:%b %d, %Y}."
    )


@login_required
@require_POST
def reauthorize(request, number: str):
    order = _order(request, number)
    try:
        sent = services.link_send_reauthorization(
            order=order, actor=request.user, confirm=request.POST.get("confirm") == "1"
        )
    except ConfirmationRequired as question:
        return render(
            request,
            "links/staff/confirm_retrigger.html",
            {"order": order, "question": question.reason, "order_url": order_screen_url(order)},
        )
    except BusinessRuleError as refusal:
        messages.error(request, f"Cart not re-triggered: {refusal.reason}")
    else:
        messages.success(request, _sent_text(sent, "Approve Order Payment link"))
    return HttpResponseRedirect(order_screen_url(order))


@login_required
@require_http_methods(["GET", "POST"])
def price_increase(request, number: str):
    order = _order(request, number)
    availability = price_increase_availability(order)
    if not availability.allowed:
        messages.error(request, f"No price increase: {availability.reason}")
        return HttpResponseRedirect(order_screen_url(order))
    kwargs = {"form_kwargs": {"currency": order.currency}}
    if request.method == "GET":
        formset = LineFormSet(initial=initial_lines(order), **kwargs)
        return _price_increase_page(request, order, formset)
    formset = LineFormSet(request.POST, **kwargs)
    if not formset.is_valid():
        return _price_increase_page(request, order, formset)
    lines = [line for form in formset if (line := form.line())]
    if request.POST.get("action") != "send":
        return _price_increase_page(request, order, formset, new_total=lines_total(lines))
    try:
        sent = services.link_send_price_increase(order=order, actor=request.user, lines=lines)
    except BusinessRuleError as refusal:
        return _price_increase_page(
            request, order, formset, new_total=lines_total(lines), error=refusal.reason
        )
    messages.success(request, _sent_text(sent, "New cart (price increase)"))
    return HttpResponseRedirect(order_screen_url(order))


def _price_increase_page(request, order, formset, *, new_total=None, error=""):
    status = 400 if (error or formset.is_bound and not formset.is_valid()) else 200
    return render(
        request,
        "links/staff/price_increase.html",
        {
            "order": order,
            "formset": formset,
            "new_total": new_total,
            "error": error,
            "order_url": order_screen_url(order),
        },
        status=status,
    )


@login_required
@require_POST
def revoke(request, number: str, link_id: int):
    order = _order(request, number)
    link = get_object_or_404(PaymentLink, pk=link_id, order=order)
    try:
        link = services.link_revoke(link=link, actor=request.user)
    except BusinessRuleError as refusal:
        messages.error(request, f"Link not revoked: {refusal.reason}")
    else:
        messages.success(request, f"The payment link sent to {link.sent_to} no longer works.")
        if services.link_payment_in_progress(link):
            messages.warning(
                request,
                "The customer was paying with it at that moment: if the payment service "
                "approves, that hold is released at once and the customer is told so.",
            )
    return HttpResponseRedirect(order_screen_url(order))


__all__ = ["LinkStatus", "price_increase", "reauthorize", "revoke"]
