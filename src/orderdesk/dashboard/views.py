"""The CSR dashboard's views: parse with a form, call one service, render or redirect."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.money import format_minor
from orderdesk.dashboard import forms
from orderdesk.dashboard.access import staff_required
from orderdesk.dashboard.charts import bar_chart
from orderdesk.dashboard.order_screen import order_actions
from orderdesk.dashboard.panel_rows import panel_rows_html
from orderdesk.dashboard.selectors import order_for_screen, order_timeline
from orderdesk.dashboard.templatetags.dashboard import expiry_phrase
from orderdesk.dashboard.terminal import terminal_fields
from orderdesk.links.payment_page import gateway_scripts_allow
from orderdesk.orders import services as order_services
from orderdesk.orders.models import Order
from orderdesk.payments.models import AuthorizationSource, AuthorizationStatus
from orderdesk.payments.selectors import order_payments, payment_security
from orderdesk.payments.services import (
    authorization_request,
    card_intent_release,
    external_payment_record,
)
from orderdesk.unpaid.figures import panel_figures
from orderdesk.unpaid.rows import unpaid_panel
from orderdesk.workflows import cancellation, shipping


@require_GET
@staff_required()
def index(request):
    """The dashboard; an htmx request for the panel gets the panel fragment only."""
    form = forms.PanelFilterForm(request.GET)
    filters = form.filters()
    panel = unpaid_panel(user=request.user, page=form.page_number(), **filters)
    version = _panel_version(request, panel)
    context = {
        "panel": panel,
        "filter_form": form,
        "filters": filters,
        "panel_version": version,
        "refresh_seconds": REFRESH_SECONDS,
        "notices": form.notices(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        if request.headers.get("X-Panel-Version") == version:
            response = HttpResponse(status=204)  # unchanged: the browser keeps what it shows
        else:
            context["rows"] = _rows(panel)
            response = render(request, "dashboard/index.html#unpaid-panel", context)
        response["X-Panel-Version"] = version
    else:
        figures = panel_figures()
        context["work"] = figures.work
        context["chart"] = bar_chart(figures.expiry)
        context["figures_as_of"] = figures.as_of
        context["rows"] = _rows(panel)
        response = render(request, "dashboard/index.html", context)
    patch_vary_headers(response, ["HX-Request", "X-Panel-Version"])
    return response


REFRESH_SECONDS = 60


def _rows(panel):
    return panel_rows_html(panel.rows, moment=panel.moment, by_urgency=panel.sort == "urgency")


def _panel_version(request, panel) -> str:
    """A digest of everything the panel fragment shows, so a refresh that would change nothing
    swaps nothing (the "Updated" time aside)."""
    rows = [
        (
            row.pk,
            row.number,
            row.payment_state,
            row.total,
            row.authorized_amount,
            expiry_phrase(row.payment_expires_at, panel.moment),
            row.estimated_delivery_date,
            row.last_action,
            row.last_action_at,
            row.assigned_to_id,
            row.account.name,
            row.account.ecommerce_email,
        )
        for row in panel.rows
    ]
    shown = (request.GET.urlencode(), panel.counts, panel.total, panel.page, panel.pages, rows)
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:16]


def _order_page(
    request, order: Order, *, bound: dict | None = None, status: int = 200, fresh: bool = False
):
    if not fresh:
        order = order_for_screen(order.number)  # an action may have changed it
    payments = order_payments(order)
    security = payment_security(
        order, authorizations=payments["authorizations"], paid=payments["paid"]
    )
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "payments": payments,
        "security": security,
        "amount_paid": security.paid,  # read once, for the payment-link actions too
        "events": order_timeline(order),
        "actions": order_actions(order, user=request.user, security=security),
        "forms": {
            "date": forms.DeliveryDateForm(
                initial={"estimated_delivery_date": order.estimated_delivery_date}
            ),
            "status": forms.StatusForm(),
            "note": forms.NoteForm(),
            "card": forms.ManualCardForm(),
            "external": forms.ExternalPaymentForm(currency=order.currency),
            "ship": forms.ShipForm(),
            "cancel": forms.CancelForm(),
            "assign": None,
            **(bound or {}),
        },
    }
    context.update(terminal_fields(order, context["actions"], paid=security.paid))
    response = render(request, "dashboard/order.html", context, status=status)
    return gateway_scripts_allow(response, card=context.get("card_entry"))


@require_GET
@staff_required()
def order_detail(request, number: str):
    return _order_page(request, order_for_screen(number), fresh=True)


def _act(request, order: Order, form, key: str, perform):
    """Run one action: on success confirm it and go back; otherwise show why, on the form."""
    if form.is_valid():
        try:
            outcome = perform(form.cleaned_data)
        except BusinessRuleError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.reason)
            messages.error(request, error.reason)
        except PermissionDenied:
            form.add_error(None, "Your role does not allow this.")
            messages.error(request, "Your role does not allow this.")
            return _order_page(request, order, bound={key: form}, status=403)
        else:
            level, text = outcome if isinstance(outcome, tuple) else (messages.SUCCESS, outcome)
            messages.add_message(request, level, text)
            return redirect("dashboard:order", number=order.number)
    else:
        messages.error(request, "Nothing was changed: correct the form below.")
    return _order_page(request, order, bound={key: form}, status=400)


@require_POST
@staff_required("orders.work_order")
def order_assign_me(request, number: str):
    order = order_for_screen(number)

    def perform(data):
        order_services.order_assign(order=order, actor=request.user, assignee=request.user)
        return f"Order {order.number} is assigned to you."

    return _act(request, order, forms.AssignForm(request.POST), "assign", perform)


@require_POST
@staff_required("orders.work_order")
def order_delivery_date(request, number: str):
    order = order_for_screen(number)

    def perform(data):
        estimated = data["estimated_delivery_date"]
        order_services.order_delivery_date_set(order=order, actor=request.user, estimated=estimated)
        if estimated is None:
            return "Estimated delivery date cleared."
        return f"Estimated delivery date set to {estimated:%B} {estimated.day}, {estimated.year}."

    return _act(request, order, forms.DeliveryDateForm(request.POST), "date", perform)


@require_POST
@staff_required("orders.work_order")
def order_status(request, number: str):
    order = order_for_screen(number)

    def perform(data):
        moved = order_services.order_status_set(order=order, to=data["to"], actor=request.user)
        return f"Order {order.number} is now {moved.get_status_display().lower()}."

    return _act(request, order, forms.StatusForm(request.POST), "status", perform)


@require_POST
@staff_required("orders.work_order")
def order_note(request, number: str):
    order = order_for_screen(number)

    def perform(data):
        order_services.order_note_add(order=order, actor=request.user, text=data["text"])
        return "Note added."

    return _act(request, order, forms.NoteForm(request.POST), "note", perform)


@require_POST
@staff_required("orders.process_card")
def order_process_card(request, number: str):
    """The virtual terminal: authorize the amount owed with a card tokenized by the gateway."""
    order = order_for_screen(number)

    def perform(data):
        try:
            authorization = authorization_request(
                order=order,
                payment_token=data["payment_token"],
                method="card",
                source=AuthorizationSource.MANUAL,
                actor=request.user,
            )
        except BusinessRuleError as refusal:  # refused before the gateway: a card confirmed
            card_intent_release(  # is released
                order=order,
                payment_token=data["payment_token"],
                source=AuthorizationSource.MANUAL,
                reason=refusal.reason,
            )
            raise
        amount = format_minor(authorization.amount, authorization.currency)
        if authorization.status == AuthorizationStatus.AUTHORIZED:
            return f"Card approved: {amount} authorized on {authorization.instrument}."
        if authorization.status == AuthorizationStatus.UNKNOWN:
            return messages.WARNING, (
                "The gateway did not answer in time. The outcome will be reconciled "
                "automatically; do not process the card again."
            )
        reason = authorization.message or authorization.decline_code or "no reason given"
        return messages.ERROR, (
            f"Card declined ({reason}). Nothing was charged; the order is flagged as payment "
            "failed until a card is approved."
        )

    return _act(request, order, forms.ManualCardForm(request.POST), "card", perform)


@require_POST
@staff_required("orders.record_external_payment")
def order_external_payment(request, number: str):
    order = order_for_screen(number)
    form = forms.ExternalPaymentForm(request.POST, currency=order.currency)

    def perform(data):
        payment = external_payment_record(
            order=order,
            amount=data["amount"],
            reference=data["reference"],
            reason=data["reason"],
            actor=request.user,
        )
        return (
            f"External payment of {format_minor(payment.amount, payment.currency)} "
            f"recorded (reference {payment.reference})."
        )

    return _act(request, order, form, "external", perform)


@require_POST
@staff_required("orders.ship_order")
def order_ship(request, number: str):
    order = order_for_screen(number)
    form = forms.ShipForm(request.POST)
    overriding = bool(
        request.POST.get("override_reason", "").strip() or request.POST.get("override")
    )
    if overriding and not request.user.has_perm("orders.override_ship_gate"):
        raise PermissionDenied("Only a supervisor may override the ship gate.")

    def perform(data):
        shipping.order_ship(
            order=order, actor=request.user, override_reason=data["override_reason"]
        )
        shipped = order_for_screen(order.number)
        if shipped.status != "shipped":
            return messages.WARNING, (
                f"The gateway has not answered the capture yet: it is being confirmed with the "
                f"gateway, and order {order.number} ships once it is."
            )
        if shipped.events.filter(kind="overridden").exists():
            return messages.WARNING, f"Order {order.number} shipped with the ship gate overridden."
        return (
            f"Order {order.number} shipped; payment {shipped.get_payment_state_display().lower()}."
        )

    return _act(request, order, form, "ship", perform)


@require_POST
@staff_required("orders.cancel_order")
def order_cancel(request, number: str):
    order = order_for_screen(number)

    def perform(data):
        cancellation.order_cancel(
            order=order, actor=request.user, reason=data["reason"], note=data["note"]
        )
        return f"Order {order.number} cancelled; any live authorization was voided."

    return _act(request, order, forms.CancelForm(request.POST), "cancel", perform)
