"""Orders: numbers, quotes, the work status machine and the payment state a new order starts in."""

import itertools
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from orderdesk.common.errors import BusinessRuleError
from orderdesk.orders.models import EventKind, Order, OrderStatus, PaymentState
from orderdesk.orders.services import LineInput, order_note_add, order_status_set, order_transition
from orderdesk.orders.statuses import ORDER_STATUS_MACHINE
from orderdesk.workflows.intake import order_open
from tests.factories import make_account, make_order

pytestmark = pytest.mark.django_db

WORK_STATUSES = [OrderStatus.OPEN, OrderStatus.IN_PROGRESS, OrderStatus.READY_TO_SHIP]
ALLOWED_WORK_MOVES = {
    (OrderStatus.OPEN, OrderStatus.IN_PROGRESS),
    (OrderStatus.OPEN, OrderStatus.READY_TO_SHIP),
    (OrderStatus.IN_PROGRESS, OrderStatus.OPEN),
    (OrderStatus.IN_PROGRESS, OrderStatus.READY_TO_SHIP),
    (OrderStatus.READY_TO_SHIP, OrderStatus.IN_PROGRESS),
}


def order_in(status):
    order = make_order()
    path = {
        OrderStatus.OPEN: [],
        OrderStatus.IN_PROGRESS: [OrderStatus.IN_PROGRESS],
        OrderStatus.READY_TO_SHIP: [OrderStatus.IN_PROGRESS, OrderStatus.READY_TO_SHIP],
        OrderStatus.SHIPPED: [OrderStatus.READY_TO_SHIP, OrderStatus.SHIPPED],
        OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
    }[status]
    for step in path:
        order_transition(order, step)
    return order


def test_the_status_machine_table_is_the_documented_pipeline():
    assert ORDER_STATUS_MACHINE.targets(OrderStatus.SHIPPED) == frozenset()
    assert ORDER_STATUS_MACHINE.targets(OrderStatus.CANCELLED) == frozenset()
    for status in WORK_STATUSES:
        assert OrderStatus.CANCELLED in ORDER_STATUS_MACHINE.targets(status)
    assert ORDER_STATUS_MACHINE.targets(OrderStatus.READY_TO_SHIP) >= {OrderStatus.SHIPPED}
    assert OrderStatus.SHIPPED not in ORDER_STATUS_MACHINE.targets(OrderStatus.OPEN)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED_WORK_MOVES))
def test_allowed_work_moves_change_the_status_and_write_the_timeline(csr, current, target):
    order = order_in(current)
    order_status_set(order=order, to=target, actor=csr)
    order.refresh_from_db()
    assert order.status == target
    event = order.events.filter(kind=EventKind.STATUS_CHANGED).latest("id")
    assert event.details == {"from": current, "to": target}
    assert event.actor == csr


@pytest.mark.parametrize(
    ("current", "target"),
    [
        pair
        for pair in itertools.product(
            [*WORK_STATUSES, OrderStatus.SHIPPED, OrderStatus.CANCELLED], WORK_STATUSES
        )
        if pair not in ALLOWED_WORK_MOVES
    ],
)
def test_refused_work_moves_change_nothing(csr, current, target):
    order = order_in(current)
    events = order.events.count()
    with pytest.raises(BusinessRuleError) as refused:
        order_status_set(order=order, to=target, actor=csr)
    assert refused.value.field == "status"
    order.refresh_from_db()
    assert order.status == current
    assert order.events.count() == events


@pytest.mark.parametrize("target", [OrderStatus.SHIPPED, OrderStatus.CANCELLED])
def test_shipping_and_cancelling_are_not_plain_status_moves(csr, target):
    order = order_in(OrderStatus.READY_TO_SHIP)
    with pytest.raises(BusinessRuleError, match="Use Ship or Cancel"):
        order_status_set(order=order, to=target, actor=csr)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_SHIP


def test_moving_work_along_needs_the_work_permission():
    from django.contrib.auth import get_user_model

    outsider = get_user_model().objects.create_user("outsider", password="x" * 12)
    order = make_order()
    with pytest.raises(PermissionDenied):
        order_status_set(order=order, to=OrderStatus.IN_PROGRESS, actor=outsider)


def test_order_numbers_are_sequential_and_unique():
    numbers = [make_order().number for _ in range(3)]
    first = int(numbers[0])
    assert numbers == [str(first), str(first + 1), str(first + 2)]
    assert first > 100_000


def test_a_number_supplied_by_the_storefront_is_kept():
    order = make_order(number="WEB-2026-0042")
    assert Order.objects.get(pk=order.pk).number == "WEB-2026-0042"


def test_the_sequence_skips_numbers_a_client_already_took():
    first = int(make_order().number)
    make_order(number=str(first + 1))
    make_order(number=str(first + 2))
    assert make_order().number == str(first + 3)
    assert make_order().number == str(first + 4)


def test_an_order_totals_its_lines_and_keeps_the_quote():
    order = order_open(
        account=make_account(),
        kind="sale",
        payment_method="card",
        lines=[
            LineInput(description="Charger", unit_price=2_999, quantity=2),
            LineInput(description="Cable", unit_price=1_250),
        ],
    )
    assert (order.total, order.quoted_total) == (7_248, 7_248)
    assert [line.amount for line in order.lines.all()] == [5_998, 1_250]
    assert order.events.get().kind == EventKind.CREATED
    assert order.payment_state == PaymentState.UNAUTHORIZED


def test_negative_prices_and_zero_quantities_are_refused():
    before = Order.objects.count()
    for line in (
        LineInput(description="Refund?", unit_price=-1),
        LineInput(description="None", unit_price=100, quantity=0),
    ):
        with pytest.raises(BusinessRuleError) as refused:
            order_open(account=make_account(), kind="sale", payment_method="card", lines=[line])
        assert refused.value.field == "lines"
    assert Order.objects.count() == before


def test_a_zero_dollar_repair_quote_awaits_its_price():
    order = make_order(total=0, kind="repair")
    assert order.is_zero_dollar_quote
    assert Order.objects.get(pk=order.pk).payment_state == PaymentState.AWAITING_PRICE


def test_a_zero_dollar_sale_needs_no_payment():
    order = make_order(total=0, kind="sale")
    assert not order.is_zero_dollar_quote
    assert Order.objects.get(pk=order.pk).payment_state == PaymentState.NOT_REQUIRED


@pytest.mark.parametrize("kind", ["repair", "sale"])
def test_an_order_on_terms_needs_no_payment(kind):
    order = make_order(kind=kind, payment_method="terms")
    assert Order.objects.get(pk=order.pk).payment_state == PaymentState.NOT_REQUIRED


def test_a_card_order_starts_unauthorized():
    order = make_order(payment_method="paypal")
    assert Order.objects.get(pk=order.pk).payment_state == PaymentState.UNAUTHORIZED


def test_a_note_is_added_to_the_timeline_and_an_empty_one_is_refused(csr):
    order = make_order()
    note = order_note_add(order=order, actor=csr, text="  Customer asked for a call  ")
    assert (note.kind, note.message, note.actor) == (
        EventKind.NOTE,
        "Customer asked for a call",
        csr,
    )
    with pytest.raises(BusinessRuleError):
        order_note_add(order=order, actor=csr, text="   ")
    assert order.events.filter(kind=EventKind.NOTE).count() == 1


def test_an_order_cannot_open_with_a_delivery_date_in_the_past():
    with pytest.raises(BusinessRuleError, match="is in the past") as refusal:
        order_open(
            account=make_account(),
            kind="repair",
            payment_method="card",
            lines=[LineInput("Fix", 1_000)],
            estimated_delivery_date=date(2020, 1, 15),
        )
    assert refusal.value.field == "estimated_delivery_date"
    assert Order.objects.count() == 0
