import pytest

from orderdesk.orders.models import OrderStatus, PaymentState
from orderdesk.payments.models import AuthorizationStatus
from orderdesk.workflows.shipping import ShipmentRefused, order_ship
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db


def test_authorized_order_is_captured_at_shipment(csr):
    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    order_ship(order=order, actor=csr)
    order.refresh_from_db()
    authorization.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.payment_state == PaymentState.PAID
    assert authorization.status == AuthorizationStatus.CAPTURED
    assert authorization.captures.get().amount == order.total


def test_declined_order_does_not_ship(csr):
    order = make_order(status="ready_to_ship")
    authorize(order, DECLINE_CARD)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.FAILED
    with pytest.raises(ShipmentRefused):
        order_ship(order=order, actor=csr)
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_SHIP
    assert order.events.filter(kind="ship_refused").count() == 1
