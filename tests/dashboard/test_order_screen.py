"""The order screen: what it shows, and each action confirming what it did or saying why not."""

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orderdesk.orders.models import OrderStatus, PaymentState
from orderdesk.payments.models import AuthorizationStatus
from orderdesk.payments.services import void_steps_deliver
from orderdesk.sandbox.models import SandboxTransaction
from tests.dashboard.scenario import aged_authorization
from tests.factories import DECLINE_CARD, authorize, card_token, make_order

pytestmark = pytest.mark.django_db


def page(client, order):
    response = client.get(reverse("dashboard:order", args=[order.number]))
    assert response.status_code == 200
    return response.content.decode()


def said(response) -> list[str]:
    """The message this response added (earlier, unread ones wait in the same storage)."""
    return [str(message) for message in get_messages(response.wsgi_request)][-1:]


def post(client, name, order, data=None):
    return client.post(reverse(name, args=[order.number]), data or {})


def test_order_screen_shows_details_history_and_times_in_the_business_zone(client, csr, settings):
    settings.TIME_ZONE = "America/New_York"
    order = make_order(estimated_delivery_date=date(2030, 3, 4))
    authorization = authorize(order)
    client.force_login(csr)
    html = page(client, order)
    assert "Order Details" in html and "Authorization history" in html and "Timeline" in html
    assert "Visa •••• 4242" in html
    assert "USD 125.00" in html
    assert "Monday, March 4, 2030" in html
    local = authorization.expires_at.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    assert local.strftime("%H:%M") + (" EST" if local.dst().seconds == 0 else " EDT") in html


def test_a_csr_sees_csr_actions_and_not_supervisor_ones(client, csr):
    order = make_order(status="ready_to_ship")
    client.force_login(csr)
    html = page(client, order)
    assert "Process card manually" in html and "Ship order" in html and "Assign to me" in html
    assert "Record external payment" not in html
    assert "Cancel order" not in html
    assert "Override the ship gate" not in html


def test_a_supervisor_sees_override_external_payment_and_cancel(client, supervisor):
    order = make_order(status="ready_to_ship")
    client.force_login(supervisor)
    html = page(client, order)
    for text in ("Override the ship gate", "Record external payment", "Cancel order"):
        assert text in html


def test_a_secured_order_offers_no_manual_card(client, csr):
    order = make_order(status="ready_to_ship")
    authorize(order)
    client.force_login(csr)
    html = page(client, order)
    assert "Process card manually" not in html
    assert "Payment is secured (authorized)" in html


def test_a_card_posted_from_a_stale_screen_of_a_secured_order_is_refused(client, csr):
    """The server refuses what the screen no longer offers: no second hold on the card."""
    order = make_order(status="ready_to_ship")
    authorize(order)
    client.force_login(csr)
    response = post(client, "dashboard:order-card", order, {"payment_token": card_token()})
    assert response.status_code == 400
    assert "Payment is already secured" in response.content.decode()
    assert order.authorizations.count() == 1


def test_linked_orders_link_both_ways(client, csr):
    old = make_order()
    new = make_order(number=f"{old.number}-1", supersedes=old)
    client.force_login(csr)
    assert f'href="/orders/{new.number}/"' in page(client, old)
    assert f'href="/orders/{old.number}/"' in page(client, new)


def test_set_the_estimated_delivery_date(client, csr):
    order = make_order()
    client.force_login(csr)
    response = post(
        client, "dashboard:order-date", order, {"estimated_delivery_date": "2030-01-15"}
    )
    assert response.status_code == 302
    assert said(response) == ["Estimated delivery date set to January 15, 2030."]
    order.refresh_from_db()
    assert order.estimated_delivery_date == date(2030, 1, 15)


def test_a_delivery_date_in_the_past_is_refused_with_a_clear_message_and_changes_nothing(
    client, csr
):
    order = make_order()
    client.force_login(csr)
    events = order.events.count()
    response = post(
        client, "dashboard:order-date", order, {"estimated_delivery_date": "2020-01-15"}
    )
    assert response.status_code == 400
    assert "The estimated delivery date Jan 15, 2020 is in the past" in response.content.decode()
    order.refresh_from_db()
    assert order.estimated_delivery_date is None and order.events.count() == events


def test_a_bad_date_is_refused_with_the_form_error_and_changes_nothing(client, csr):
    order = make_order()
    client.force_login(csr)
    events = order.events.count()
    response = post(client, "dashboard:order-date", order, {"estimated_delivery_date": "soon"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    order.refresh_from_db()
    assert order.estimated_delivery_date is None and order.events.count() == events


def test_a_declined_card_leaves_the_order_flagged_failed_then_an_approved_one_authorizes(
    client, csr
):
    order = make_order(status="ready_to_ship")
    client.force_login(csr)
    declined = post(
        client, "dashboard:order-card", order, {"payment_token": card_token(DECLINE_CARD)}
    )
    assert declined.status_code == 302
    assert said(declined)[0].startswith("Card declined (")
    order.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.READY_TO_SHIP, PaymentState.FAILED)
    approved = post(client, "dashboard:order-card", order, {"payment_token": card_token()})
    assert said(approved) == ["Card approved: USD 125.00 authorized on Visa •••• 4242."]
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    manual = order.authorizations.get(status=AuthorizationStatus.AUTHORIZED)
    assert (manual.source, manual.created_by) == ("manual", csr)


def test_a_card_posted_without_a_token_reaches_no_gateway(client, csr):
    order = make_order()
    client.force_login(csr)
    response = post(client, "dashboard:order-card", order, {"card_number": "4242424242424242"})
    assert response.status_code == 400
    assert "The card was not sent to the gateway" in response.content.decode()
    assert SandboxTransaction.objects.count() == 0
    assert order.authorizations.count() == 0


def test_ship_a_secured_order_captures(client, csr):
    order = make_order(status="ready_to_ship")
    authorize(order)
    client.force_login(csr)
    response = post(client, "dashboard:order-ship", order)
    assert response.status_code == 302
    assert said(response) == [f"Order {order.number} shipped; payment paid."]
    order.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.PAID)


def test_the_gate_refuses_an_expired_order_with_the_reason_and_changes_nothing_else(client, csr):
    order = make_order(status="ready_to_ship")
    aged_authorization(order, days_ago=30)
    client.force_login(csr)
    response = post(client, "dashboard:order-ship", order)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Payment is not secured: the authorization has expired" in html
    assert "Override the ship gate" not in html
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_SHIP
    assert order.events.filter(kind="ship_refused").count() == 1


def test_a_supervisor_overrides_the_gate_with_a_reason(client, supervisor):
    order = make_order(status="ready_to_ship")
    aged_authorization(order, days_ago=30)
    client.force_login(supervisor)
    refused = post(client, "dashboard:order-ship", order)
    assert "Override the ship gate" in refused.content.decode()
    response = post(client, "dashboard:order-ship", order, {"override_reason": "Paid in store"})
    assert response.status_code == 302
    assert said(response) == [f"Order {order.number} shipped with the ship gate overridden."]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert "Paid in store" in order.events.get(kind="overridden").message


def test_an_override_without_a_reason_asks_for_the_reason_and_records_no_refusal(
    client, supervisor
):
    order = make_order(status="ready_to_ship")
    aged_authorization(order, days_ago=30)
    client.force_login(supervisor)
    events = order.events.count()
    response = post(
        client, "dashboard:order-ship", order, {"override": "1", "override_reason": "  "}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the reason for shipping without secured payment." in html
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_SHIP
    assert order.events.count() == events
    assert not order.events.filter(kind="ship_refused").exists()


def test_an_override_without_a_reason_from_a_csr_is_forbidden(client, csr):
    order = make_order(status="ready_to_ship")
    aged_authorization(order, days_ago=30)
    client.force_login(csr)
    events = order.events.count()
    response = post(client, "dashboard:order-ship", order, {"override": "1"})
    assert response.status_code == 403
    assert order.events.count() == events


def test_record_an_external_payment_parses_the_amount_exactly(client, supervisor):
    order = make_order(total=1_234_50, status="ready_to_ship")
    client.force_login(supervisor)
    response = post(
        client,
        "dashboard:order-external-payment",
        order,
        {"amount": "1,234.50", "reference": "WIRE-77", "reason": "Bank transfer"},
    )
    assert said(response) == ["External payment of USD 1,234.50 recorded (reference WIRE-77)."]
    payment = order.external_payments.get()
    assert payment.amount == 123450
    order.refresh_from_db()
    assert order.payment_state == PaymentState.PAID


@pytest.mark.parametrize("typed", ["12.345", "abc", "0", "-5"])
def test_an_unreadable_external_amount_is_refused(client, supervisor, typed):
    order = make_order()
    client.force_login(supervisor)
    response = post(
        client,
        "dashboard:order-external-payment",
        order,
        {"amount": typed, "reference": "R", "reason": "why"},
    )
    assert response.status_code == 400
    assert order.external_payments.count() == 0


def test_cancel_voids_the_authorization(client, supervisor):
    order = make_order()
    authorization = authorize(order)
    client.force_login(supervisor)
    response = post(client, "dashboard:order-cancel", order, {"reason": "customer_request"})
    assert response.status_code == 302
    screen = client.get(reverse("dashboard:order", args=[order.number])).content.decode()
    assert "Release pending at the gateway: the hold of USD 125.00 (order cancelled)" in screen
    void_steps_deliver()  # the worker releases the hold
    authorization.refresh_from_db()
    order.refresh_from_db()
    assert (order.status, authorization.status) == (
        OrderStatus.CANCELLED,
        AuthorizationStatus.VOIDED,
    )
    screen = client.get(reverse("dashboard:order", args=[order.number])).content.decode()
    assert "Release pending" not in screen


def test_an_impossible_status_move_says_why(client, csr):
    order = make_order()
    client.force_login(csr)
    response = post(client, "dashboard:order-status", order, {"to": "open"})
    assert response.status_code == 400
    assert "An order that is open cannot become open." in response.content.decode()


def test_assign_to_me_and_add_a_note(client, csr):
    order = make_order()
    client.force_login(csr)
    assert said(post(client, "dashboard:order-assign", order)) == [
        f"Order {order.number} is assigned to you."
    ]
    assert said(post(client, "dashboard:order-note", order, {"text": "Left a voicemail"})) == [
        "Note added."
    ]
    order.refresh_from_db()
    assert order.assigned_to == csr
    assert "Left a voicemail" in page(client, order)


def test_a_note_with_a_nul_character_is_refused_not_a_server_error(client, csr):
    order = make_order()
    client.force_login(csr)
    response = post(client, "dashboard:order-note", order, {"text": "bad\x00note"})
    assert response.status_code == 400
