"""Rule 7: nothing ships without secured payment; capture at shipment; a supervisor may override."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict

from orderdesk.common.clock import now
from orderdesk.orders.models import EventKind, Order, OrderStatus, PaymentState
from orderdesk.payments.models import Authorization, AuthorizationStatus, Capture
from orderdesk.payments.services import external_payment_record
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.workflows.shipping import ShipmentRefused, order_ship
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db

# The timeline's "last action" moves with every event, a refusal included.
TIMELINE_FIELDS = {"last_action", "last_action_at", "updated_at"}


def snapshot(order):
    order = Order.objects.get(pk=order.pk)
    fields = {k: v for k, v in model_to_dict(order).items() if k not in TIMELINE_FIELDS}
    return {
        "order": fields,
        "authorizations": list(Authorization.objects.filter(order=order).values()),
        "captures": Capture.objects.filter(authorization__order=order).count(),
        # The gateway remembers a refused capture; what must not change is the holds.
        "holds": list(
            SandboxTransaction.objects.filter(kind="authorization")
            .order_by("pk")
            .values("pk", "status")
        ),
        "events": list(
            order.events.exclude(kind=EventKind.SHIP_REFUSED).values_list("pk", flat=True)
        ),
    }


def assert_refused_and_unchanged(order, actor, reason, override_reason=""):
    before = snapshot(order)
    with pytest.raises(ShipmentRefused) as refused:
        order_ship(order=order, actor=actor, override_reason=override_reason)
    assert refused.value.reason == reason
    assert snapshot(order) == before
    refusal = order.events.get(kind=EventKind.SHIP_REFUSED)
    assert refusal.message == f"Shipment refused: {reason}"
    assert refusal.actor == actor


def test_shipping_captures_the_outstanding_amount_and_the_order_becomes_paid(csr):
    order = make_order(total=18_750, status="ready_to_ship")
    authorization = authorize(order)
    order_ship(order=order, actor=csr)
    order.refresh_from_db()
    authorization.refresh_from_db()
    capture = authorization.captures.get()
    assert order.status == OrderStatus.SHIPPED
    assert order.payment_state == PaymentState.PAID
    assert authorization.status == AuthorizationStatus.CAPTURED
    assert (capture.amount, capture.currency) == (18_750, "USD")
    ledger = SandboxTransaction.objects.get(reference=capture.gateway_reference)
    assert (ledger.kind, ledger.status, ledger.amount) == ("capture", "captured", 18_750)
    assert SandboxTransaction.objects.get(reference=authorization.gateway_reference).status == (
        "captured"
    )
    kinds = list(order.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.CAPTURED, EventKind.STATUS_CHANGED, EventKind.SHIPPED]


def test_shipping_captures_only_what_is_still_owed_after_an_external_payment(csr, supervisor):
    order = make_order(total=10_000, status="ready_to_ship")
    authorization = authorize(order)
    external_payment_record(
        order=order, amount=4_000, reference="WIRE-1", reason="paid part by wire", actor=supervisor
    )
    order_ship(order=order, actor=csr)
    authorization.refresh_from_db()
    order.refresh_from_db()
    assert authorization.captures.get().amount == 6_000
    assert authorization.status == AuthorizationStatus.PARTIALLY_CAPTURED
    assert order.payment_state == PaymentState.PAID


def test_an_order_paid_outside_orderdesk_ships_without_a_capture(csr, supervisor):
    order = make_order(total=10_000, status="ready_to_ship")
    external_payment_record(
        order=order, amount=10_000, reference="CHK-77", reason="cheque", actor=supervisor
    )
    order_ship(order=order, actor=csr)
    order.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.PAID)
    assert not Capture.objects.exists()


def test_terms_order_ships_without_payment(csr):
    order = make_order(payment_method="terms", status="ready_to_ship")
    order_ship(order=order, actor=csr)
    order.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.NOT_REQUIRED)


def test_ship_gate_refuses_an_unauthorized_order_and_changes_nothing(csr):
    order = make_order(status="ready_to_ship")
    assert_refused_and_unchanged(order, csr, "Payment is not secured: no valid authorization")


def test_ship_gate_refuses_a_declined_order_and_changes_nothing(csr):
    order = make_order(status="ready_to_ship")
    authorize(order, DECLINE_CARD)
    assert_refused_and_unchanged(order, csr, "Payment is not secured: no valid authorization")


def test_ship_gate_refuses_an_expired_authorization_and_changes_nothing(csr):
    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    with time_machine.travel(authorization.expires_at, tick=False):
        assert_refused_and_unchanged(
            order, csr, "Payment is not secured: the authorization has expired"
        )
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.AUTHORIZED  # the sweep's job, not ship's


def test_ship_gate_refuses_an_unpriced_zero_dollar_quote(csr):
    order = make_order(total=0, status="ready_to_ship")
    assert order.payment_state == PaymentState.AWAITING_PRICE
    assert_refused_and_unchanged(
        order, csr, "Payment is not secured: the zero-dollar quote has not been priced yet"
    )


def test_ship_gate_refuses_an_authorization_that_does_not_cover_the_total(csr):
    order = make_order(total=10_000, status="ready_to_ship")
    authorize(order, amount=9_999)
    assert_refused_and_unchanged(
        order,
        csr,
        "Payment is not secured: the authorization of USD 99.99 does not cover the USD 100.00 owed",
    )


def test_only_an_order_ready_to_ship_can_ship(csr):
    order = make_order(status="in_progress")
    authorize(order)
    assert_refused_and_unchanged(
        order, csr, "Only an order that is ready to ship can ship; this one is in progress."
    )


def test_a_csr_cannot_override_the_ship_gate(csr):
    order = make_order(status="ready_to_ship")
    before = snapshot(order)
    with pytest.raises(PermissionDenied):
        order_ship(order=order, actor=csr, override_reason="customer is a regular")
    assert snapshot(order) == before
    assert not order.events.filter(kind=EventKind.OVERRIDDEN).exists()


def test_a_supervisor_overrides_the_ship_gate_with_a_reason_on_the_timeline(supervisor):
    order = make_order(status="ready_to_ship")
    with time_machine.travel(now() + timedelta(minutes=1), tick=False):
        order_ship(order=order, actor=supervisor, override_reason="  paid cash at the counter ")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    override = order.events.get(kind=EventKind.OVERRIDDEN)
    assert override.actor == supervisor
    assert override.details == {
        "reason": "paid cash at the counter",
        "gate": "no valid authorization",
    }
    assert override.message == (
        "Ship gate overridden: paid cash at the counter (payment: no valid authorization)"
    )
    assert not Capture.objects.exists()


def test_a_supervisor_without_a_reason_is_refused_like_anyone(supervisor):
    order = make_order(status="ready_to_ship")
    assert_refused_and_unchanged(
        order, supervisor, "Payment is not secured: no valid authorization", override_reason="   "
    )


def test_shipping_needs_the_ship_permission():
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="x" * 12)
    order = make_order(status="ready_to_ship")
    authorize(order)
    before = snapshot(order)
    with pytest.raises(PermissionDenied):
        order_ship(order=order, actor=nobody)
    assert snapshot(order) == before


def test_a_capture_the_gateway_answers_5xx_to_refuses_the_shipment_and_changes_nothing(csr):
    from orderdesk.payments.gateways.sandbox import inject_faults

    order = make_order(status="ready_to_ship")
    authorize(order)
    with inject_faults("server_error"):
        assert_refused_and_unchanged(
            order,
            csr,
            "Payment is not secured: The gateway did not confirm the capture "
            "(sandbox gateway answered 503); try again.",
        )
    assert not SandboxTransaction.objects.filter(kind="capture").exists()


def test_a_second_ship_click_while_the_capture_is_being_confirmed_is_refused(csr):
    from orderdesk.payments.gateways.sandbox import inject_faults

    order = make_order(status="ready_to_ship")
    authorize(order)
    with inject_faults("timeout"):
        order_ship(order=order, actor=csr)  # captured, the answer lost
    assert_refused_and_unchanged(
        order,
        csr,
        "The capture for this order is being confirmed with the gateway; "
        "it ships once the capture is settled.",
    )
    assert SandboxTransaction.objects.filter(kind="capture").count() == 1
    assert not Capture.objects.exists()


def test_a_capture_the_gateway_refuses_blocks_the_shipment(csr):
    from orderdesk.sandbox import server

    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    # The hold was released at the gateway behind orderdesk's back (e.g. from its console).
    server.void(reference=authorization.gateway_reference, idempotency_key="console-void")
    assert_refused_and_unchanged(
        order,
        csr,
        "Payment is not secured: The gateway refused the capture: authorization not capturable.",
    )
