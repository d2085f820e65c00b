"""The JSON API: every operation calls the same services as the dashboard.

Permissions (roles.py): reading needs orders.view_order; notes, dates, work status and
creating orders need orders.work_order (authorizing at checkout also orders.process_card);
shipping needs orders.ship_order (an override orders.override_ship_gate); cancelling and
recording an external payment are a supervisor's.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import JsonResponse
from ninja import Header, NinjaAPI, Path, Query, Status

from orderdesk.api import errors, order_actions, schemas
from orderdesk.api.auth import AUTH, THROTTLE, require_permission
from orderdesk.api.schemas import ErrorOut
from orderdesk.api.selectors import order_detail, order_get, order_summary, orders_filter
from orderdesk.api.services import storefront_order_create
from orderdesk.api.unpaid import unpaid_panel
from orderdesk.orders import services as orders
from orderdesk.orders.models import OrderStatus, PaymentState
from orderdesk.payments.services import external_payment_record
from orderdesk.workflows import cancellation, shipping

api = NinjaAPI(
    title="orderdesk API",
    version="1",
    description=(
        "Orders, their payments and the unpaid panel. Money is integer minor units plus an "
        'ISO 4217 currency. Errors are `{"detail": [{"field", "reason"}]}`. '
        "Authenticate with `Authorization: Bearer <key>` (keys: `orderdesk apikey create`)."
    ),
    auth=AUTH,
    throttle=THROTTLE,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

NUMBER = Path(
    ..., min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["100123"]
)
# 429: the per-address rate limit, or too many wrong API keys from the address.
READ_ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 422, 429)}
WRITE_ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}


def _detail(order) -> dict:
    return schemas.OrderOut.model_validate(order_detail(order)).model_dump(mode="json")


def _order(number: str):
    return order_get(number)


@api.get(
    "/orders",
    response={200: schemas.OrderPageOut, **READ_ERRORS},
    summary="List orders",
    tags=["orders"],
)
def orders_list(
    request,
    payment_state: PaymentState | None = None,
    status: OrderStatus | None = None,
    unpaid: bool | None = Query(None, description="only orders on the unpaid panel"),
    search: str | None = Query(
        None,
        max_length=100,
        pattern=schemas.NO_NUL_PATTERN,
        description="order number prefix, account name, or exact e-mail",
    ),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    require_permission(request, "orders.view_order")
    found = orders_filter(payment_state=payment_state, status=status, unpaid=unpaid, search=search)
    page = found[offset : offset + limit]
    return {
        "count": found.count(),
        "limit": limit,
        "offset": offset,
        "items": [order_summary(order) for order in page],
    }


@api.get(
    "/orders/{number}",
    response={200: schemas.OrderOut, **READ_ERRORS},
    summary="Get an order: lines, totals, payments, links and timeline",
    tags=["orders"],
)
def orders_get(request, number: str = NUMBER):
    require_permission(request, "orders.view_order")
    return order_detail(_order(number))


@api.post(
    "/orders",
    response={201: schemas.OrderOut, **WRITE_ERRORS},
    summary="Create an order (the storefront's checkout), optionally authorizing it",
    description=(
        "Send an `Idempotency-Key` header to make retries safe: a retried request with the "
        "same key and body gets the first response back and never creates a second order or "
        "authorizes twice; the same key with another body is refused with 409."
    ),
    tags=["orders"],
)
def orders_create(
    request,
    payload: schemas.OrderCreateIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[!-~]+$"
    ),
):
    result = storefront_order_create(
        payload=payload, actor=request.auth, idempotency_key=idempotency_key, respond=_detail
    )
    response = JsonResponse(result.body, status=result.status)
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@api.post(
    "/orders/{number}/status",
    response={200: schemas.OrderOut, **WRITE_ERRORS},
    summary="Move the work along: open, in progress, ready to ship",
    tags=["actions"],
)
def orders_status(request, payload: schemas.StatusIn, number: str = NUMBER):
    require_permission(request, "orders.work_order")
    order = orders.order_status_set(order=_order(number), to=payload.status, actor=request.auth)
    return order_detail(order_get(order.number))


@api.post(
    "/orders/{number}/ship",
    response={200: schemas.OrderOut, 202: schemas.OrderOut, **WRITE_ERRORS},
    summary="Ship (captures at shipment; refused with 409 unless payment is secured)",
    description="202: the gateway's answer to the capture did not arrive in time; the order "
    "stays ready to ship and ships when reconciliation confirms the capture.",
    tags=["actions"],
)
def orders_ship(request, payload: schemas.ShipIn, number: str = NUMBER):
    require_permission(request, "orders.ship_order")
    order = shipping.order_ship(
        order=_order(number), actor=request.auth, override_reason=payload.override_reason
    )
    status = 200 if order.status == OrderStatus.SHIPPED else 202
    return Status(status, order_detail(order_get(order.number)))


@api.post(
    "/orders/{number}/cancel",
    response={200: schemas.OrderOut, **WRITE_ERRORS},
    summary="Cancel (supervisors): voids the order's authorizations",
    tags=["actions"],
)
def orders_cancel(request, payload: schemas.CancelIn, number: str = NUMBER):
    require_permission(request, "orders.cancel_order")
    order = cancellation.order_cancel(
        order=_order(number), actor=request.auth, reason=payload.reason, note=payload.note
    )
    return order_detail(order_get(order.number))


@api.post(
    "/orders/{number}/notes",
    response={201: schemas.EventOut, **WRITE_ERRORS},
    summary="Add a note to the order's timeline",
    tags=["actions"],
)
def orders_note(request, payload: schemas.NoteIn, number: str = NUMBER):
    require_permission(request, "orders.work_order")
    event = orders.order_note_add(order=_order(number), actor=request.auth, text=payload.text)
    return Status(
        201,
        {
            "kind": event.kind,
            "message": event.message,
            "who": event.who,
            "created_at": event.created_at,
        },
    )


@api.put(
    "/orders/{number}/estimated-delivery-date",
    response={200: schemas.OrderOut, **WRITE_ERRORS},
    summary="Set (or clear, with null) the estimated delivery date",
    tags=["actions"],
)
def orders_delivery_date(request, payload: schemas.DeliveryDateIn, number: str = NUMBER):
    require_permission(request, "orders.work_order")
    estimated: date | None = payload.estimated_delivery_date
    order = orders.order_delivery_date_set(
        order=_order(number), actor=request.auth, estimated=estimated
    )
    return order_detail(order_get(order.number))


@api.post(
    "/orders/{number}/external-payments",
    response={201: schemas.OrderOut, **WRITE_ERRORS},
    summary="Record a payment taken outside orderdesk (supervisors)",
    tags=["actions"],
)
def orders_external_payment(request, payload: schemas.ExternalPaymentIn, number: str = NUMBER):
    require_permission(request, "orders.record_external_payment")
    order = _order(number)
    external_payment_record(
        order=order,
        amount=payload.amount,
        reference=payload.reference,
        reason=payload.reason,
        actor=request.auth,
    )
    return Status(201, order_detail(order_get(order.number)))


@api.get(
    "/unpaid",
    response={200: schemas.UnpaidPanelOut, **READ_ERRORS},
    summary="The unpaid panel: orders in payment trouble, most urgent first",
    tags=["orders"],
)
def unpaid(
    request,
    group: Literal["failed", "expired", "expiring", "awaiting_customer", "not_authorized"]
    | None = None,
    kind: Literal["repair", "sale"] | None = None,
    mine: bool = Query(False, description="only orders assigned to the caller"),
    page: int = Query(1, ge=1, le=100_000),
    per_page: int = Query(50, ge=1, le=200),
):
    require_permission(request, "orders.view_order")
    return unpaid_panel(
        user=request.auth, group=group, kind=kind, mine=mine, page=page, per_page=per_page
    )


api.add_router("", order_actions.router)
