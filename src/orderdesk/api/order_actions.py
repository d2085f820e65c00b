"""The order screen's payment actions through the API: re-trigger the cart, send a price
increase, revoke a link, process a card with a gateway token, and the order's links and
e-mails. Each calls the service the screen calls; permissions are the screen's (checked
here before any work and again inside the service). Writes take `Idempotency-Key`.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Header, Path, Router

from orderdesk.api import schemas
from orderdesk.api.auth import require_permission
from orderdesk.api.idempotency import idempotent
from orderdesk.api.schemas import ErrorOut
from orderdesk.api.selectors import order_get
from orderdesk.links.models import PaymentLink
from orderdesk.links.selectors import links_for_order
from orderdesk.links.services import (
    link_revoke,
    link_send_price_increase,
    link_send_reauthorization,
)
from orderdesk.notifications.selectors import emails_for_order
from orderdesk.payments.models import AuthorizationSource
from orderdesk.payments.services import authorization_request

router = Router(tags=["payment links and cards"])
READ_ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 422, 429)}
WRITE_ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
NUMBER = Path(..., min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
LINK_ID = Path(..., ge=1, le=2**63 - 1)
IDEMPOTENCY_KEY = Header(
    None, alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[!-~]+$"
)


def _link(link: PaymentLink) -> dict:
    return schemas.LinkOut.model_validate(link, from_attributes=True).model_dump(mode="json")


def _order(number: str):
    return order_get(number)


@router.get(
    "/orders/{number}/links",
    response={200: list[schemas.LinkOut], **READ_ERRORS},
    summary="The order's payment links (carts), newest first",
)
def links_list(request, number: str = NUMBER):
    require_permission(request, "orders.view_order")
    return [_link(link) for link in links_for_order(_order(number))]


@router.get(
    "/orders/{number}/emails",
    response={200: list[schemas.EmailOut], **READ_ERRORS},
    summary="The e-mails queued for the order, newest first, with their delivery status",
)
def emails_list(request, number: str = NUMBER):
    require_permission(request, "orders.view_order")
    return [
        schemas.EmailOut.model_validate(email, from_attributes=True).model_dump(mode="json")
        for email in emails_for_order(_order(number))
    ]


@router.post(
    "/orders/{number}/reauthorization-links",
    response={201: schemas.LinkSentOut, **WRITE_ERRORS},
    summary="Re-trigger the cart: e-mail the customer an Approve Order Payment link",
    description="409 when a link went out recently, unless `confirm` is true.",
)
def reauthorization_send(
    request,
    payload: schemas.ReauthorizationIn,
    number: str = NUMBER,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    require_permission(request, "orders.send_payment_link")
    order = _order(number)

    def perform():
        sent = link_send_reauthorization(order=order, actor=request.auth, confirm=payload.confirm)
        return 201, {"link": _link(sent.link)}

    return idempotent(
        request,
        operation=f"link.reauthorize:{order.pk}",
        key=idempotency_key,
        body=payload.model_dump(mode="json"),
        perform=perform,
    )


@router.post(
    "/orders/{number}/price-increase-links",
    response={201: schemas.LinkSentOut, **WRITE_ERRORS},
    summary="Send a price increase: e-mail a new cart with the new lines",
)
def price_increase_send(
    request,
    payload: schemas.PriceIncreaseIn,
    number: str = NUMBER,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    require_permission(request, "orders.send_payment_link")
    order = _order(number)
    lines = [line.as_line() for line in payload.lines]

    def perform():
        sent = link_send_price_increase(order=order, actor=request.auth, lines=lines)
        return 201, {"link": _link(sent.link)}

    return idempotent(
        request,
        operation=f"link.price_increase:{order.pk}",
        key=idempotency_key,
        body=payload.model_dump(mode="json"),
        perform=perform,
    )


@router.post(
    "/orders/{number}/links/{link_id}/revoke",
    response={200: schemas.LinkOut, **WRITE_ERRORS},
    summary="Revoke an open payment link: it stops working at once",
)
def link_revoke_endpoint(
    request,
    number: str = NUMBER,
    link_id: int = LINK_ID,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    require_permission(request, "orders.send_payment_link")
    order = _order(number)
    link = get_object_or_404(PaymentLink, pk=link_id, order=order)

    def perform():
        return 200, _link(link_revoke(link=link, actor=request.auth))

    return idempotent(
        request,
        operation=f"link.revoke:{link.pk}",
        key=idempotency_key,
        body={},
        perform=perform,
    )


@router.post(
    "/orders/{number}/card-payments",
    response={201: schemas.AuthorizationResultOut, **WRITE_ERRORS},
    summary="Process a card (the virtual terminal) with a gateway token; never a card number",
    description=(
        "Authorizes the amount owed. The answer's `status` says what the gateway did: "
        "`authorized`, `declined`, `error`, or `unknown` (reconciled automatically; do not "
        "process the card again)."
    ),
)
def card_payment(
    request,
    payload: schemas.CardPaymentIn,
    number: str = NUMBER,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    require_permission(request, "orders.process_card")
    order = _order(number)

    def perform():
        authorization = authorization_request(
            order=order,
            payment_token=payload.payment_token,
            method="card",
            source=AuthorizationSource.MANUAL,
            actor=request.auth,
        )
        return 201, {
            "id": authorization.pk,
            "status": authorization.status,
            "amount": authorization.amount,
            "currency": authorization.currency,
            "gateway": authorization.gateway,
            "instrument": authorization.instrument,
            "decline_code": authorization.decline_code,
            "message": authorization.message,
        }

    return idempotent(
        request,
        operation=f"card.process:{order.pk}",
        key=idempotency_key,
        body=payload.model_dump(mode="json"),
        perform=perform,
    )
