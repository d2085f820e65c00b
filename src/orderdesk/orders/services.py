"""Order actions: create, change work status, notes, assignment, delivery date.

Shipping, cancelling and replacing change payments too: they are workflows
(`orderdesk.workflows`), above both orders and payments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.people import display_name
from orderdesk.common.permissions import require
from orderdesk.orders.events import event_record
from orderdesk.orders.models import (
    EventKind,
    NumberSequence,
    Order,
    OrderLine,
    OrderStatus,
)
from orderdesk.orders.statuses import ORDER_STATUS_MACHINE

# Spread into the UPDATE of a change the CRM should hear of (see Order.crm_version).
CRM_CHANGED = {"crm_version": F("crm_version") + 1}


@dataclass(frozen=True)
class LineInput:
    description: str
    unit_price: int
    quantity: int = 1
    sku: str = ""


def lines_total(lines) -> int:
    return sum(line.quantity * line.unit_price for line in lines)


def order_number_next() -> str:
    """The sequence's next number that no order has yet.

    A client may give its own numbers (the storefront, an import): the sequence steps over
    the ones already taken instead of handing them out again.
    """
    with transaction.atomic():
        NumberSequence.objects.get_or_create(name="order")
        sequence = NumberSequence.objects.select_for_update().get(name="order")
        number = sequence.last + 1
        while Order.objects.filter(number=str(number)).exists():
            number += 1
        NumberSequence.objects.filter(pk=sequence.pk).update(last=number)
    return str(number)


@transaction.atomic
def order_create(
    *,
    account,
    kind: str,
    payment_method: str,
    lines: list[LineInput],
    currency: str = "USD",
    quoted_total: int | None = None,
    number: str | None = None,
    estimated_delivery_date: date | None = None,
    actor=None,
    crm_id: str = "",
    supersedes: Order | None = None,
) -> Order:
    """Create an order from a quote. `quoted_total` defaults to the lines' total.

    `supersedes` links a replacement to the order it replaces (the caller cancels that one).
    """
    total = lines_total(lines)
    if any(line.unit_price < 0 or line.quantity < 1 for line in lines):
        raise BusinessRuleError(
            "Prices cannot be negative and quantities start at 1.", field="lines"
        )
    order = Order.objects.create(
        number=number or order_number_next(),
        account=account,
        kind=kind,
        payment_method=payment_method,
        currency=currency,
        total=total,
        quoted_total=total if quoted_total is None else quoted_total,
        estimated_delivery_date=estimated_delivery_date,
        crm_id=crm_id,
        supersedes=supersedes,
    )
    order_lines_write(order, lines)
    event_record(order, EventKind.CREATED, f"Order {order.number} created", actor=actor)
    return order


def order_lines_write(order: Order, lines: list[LineInput]) -> None:
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            position=index,
            sku=line.sku,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for index, line in enumerate(lines)
    )


def order_transition(order: Order, to: str, *, actor=None, reason: str = "") -> Order:
    """The one way an order's work status changes: checked against the table, timelined."""
    ORDER_STATUS_MACHINE.check(order.status, to)
    previous = order.status
    order.status = to
    order.updated_at = now()
    Order.objects.filter(pk=order.pk).update(
        status=to, cancel_reason=order.cancel_reason, updated_at=order.updated_at, **CRM_CHANGED
    )
    text = f"Status {OrderStatus(previous).label} → {OrderStatus(to).label}"
    event_record(
        order,
        EventKind.STATUS_CHANGED,
        text + (f": {reason}" if reason else ""),
        actor=actor,
        details={"from": previous, "to": to},
    )
    return order


@transaction.atomic
def order_status_set(*, order: Order, to: str, actor) -> Order:
    """Move work along (open → in progress → ready to ship). Shipping and cancelling have their own."""
    require(actor, "orders.work_order")
    if to in (OrderStatus.SHIPPED, OrderStatus.CANCELLED):
        raise BusinessRuleError("Use Ship or Cancel for that.", field="status")
    order = lock_one(Order.objects, pk=order.pk)
    if not ORDER_STATUS_MACHINE.allowed(order.status, to):
        raise BusinessRuleError(
            f"An order that is {order.get_status_display().lower()} cannot become "
            f"{OrderStatus(to).label.lower()}.",
            field="status",
        )
    return order_transition(order, to, actor=actor)


@transaction.atomic
def order_note_add(*, order: Order, actor, text: str):
    require(actor, "orders.work_order")
    text = text.strip()
    if not text:
        raise BusinessRuleError("Write the note first.", field="text")
    return event_record(order, EventKind.NOTE, text[:500], actor=actor)


@transaction.atomic
def order_assign(*, order: Order, actor, assignee) -> Order:
    require(actor, "orders.work_order")
    Order.objects.filter(pk=order.pk).update(assigned_to=assignee, updated_at=now())
    order.assigned_to = assignee
    who = display_name(assignee, default="nobody")
    event_record(order, EventKind.ASSIGNED, f"Assigned to {who}", actor=actor)
    return order


def delivery_date_check(estimated: date | None) -> None:
    """An estimated delivery date promised to a customer cannot lie in the past."""
    today = timezone.localdate(now())
    if estimated is not None and estimated < today:
        raise BusinessRuleError(
            f"The estimated delivery date {estimated:%b %d, %Y} is in the past: "
            f"give today ({today:%b %d, %Y}) or a later date.",
            field="estimated_delivery_date",
        )


@transaction.atomic
def order_delivery_date_set(*, order: Order, actor, estimated: date | None) -> Order:
    require(actor, "orders.work_order")
    delivery_date_check(estimated)
    Order.objects.filter(pk=order.pk).update(
        estimated_delivery_date=estimated, updated_at=now(), **CRM_CHANGED
    )
    order.estimated_delivery_date = estimated
    text = (
        f"Estimated delivery date set to {estimated:%b %d, %Y}"
        if estimated
        else "Estimated delivery date cleared"
    )
    event_record(order, EventKind.DELIVERY_DATE_SET, text, actor=actor)
    return order


def order_crm_settle(*, order_id: int, version: int) -> None:
    """The CRM outbox finished with the order's changes up to `version`: delivered, or
    given up and shown to supervisors (never moves back)."""
    Order.objects.filter(pk=order_id, crm_settled_version__lt=version).update(
        crm_settled_version=version
    )


def order_crm_id_record(*, number: str, crm_id: str) -> None:
    """The CRM's own record id for the order, kept the first time the CRM answers it."""
    if crm_id:
        Order.objects.filter(number=number, crm_id="").update(crm_id=crm_id[:64])
