"""orderdesk's payment services with the Stripe adapter, end to end against the fake."""

from datetime import datetime, timezone

import pytest

from orderdesk.orders.models import OrderStatus, PaymentState
from orderdesk.payments.models import AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import authorization_reconcile, authorization_request
from orderdesk.workflows.shipping import order_ship
from tests.contract.fakes.stripe_api import SECRET_KEY, FakeStripe
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    server = FakeStripe().start()
    settings.ORDERDESK_STRIPE_SECRET_KEY = SECRET_KEY
    settings.ORDERDESK_STRIPE_API_BASE = server.url
    settings.ORDERDESK_GATEWAY_TIMEOUT_SECONDS = 0.5
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    settings.ORDERDESK_AUTHORIZATION_POLICIES = "stripe:card=29"
    yield server
    server.stop()


def request_authorization(order, token="pm_card_visa"):
    return authorization_request(
        order=order,
        payment_token=token,
        method="card",
        source=AuthorizationSource.STOREFRONT,
        gateway_name="stripe",
    )


def test_an_order_authorized_with_stripe_is_captured_when_it_ships(fake, csr):
    order = make_order(status="ready_to_ship", total=12_500)

    authorization = request_authorization(order)
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert order.payment_state == PaymentState.AUTHORIZED
    assert authorization.instrument == "Visa •••• 4242"

    order_ship(order=order, actor=csr)

    order.refresh_from_db()
    authorization.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.PAID)
    assert authorization.status == AuthorizationStatus.CAPTURED
    intent = fake.intents[authorization.gateway_reference]
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 12_500)


def test_stripes_capture_deadline_wins_over_the_configured_policy(fake):
    order = make_order(total=12_500)

    authorization = request_authorization(order)

    intent = fake.intents[authorization.gateway_reference]
    card = fake.charges[intent["latest_charge"]]["payment_method_details"]["card"]
    assert authorization.expires_at == datetime.fromtimestamp(
        card["capture_before"], tz=timezone.utc
    )


def test_a_stripe_decline_leaves_the_order_needing_manual_payment(fake):
    order = make_order(total=12_500)

    authorization = request_authorization(order, token="pm_card_chargeDeclinedInsufficientFunds")

    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.DECLINED
    assert authorization.decline_code == "insufficient_funds"
    assert order.payment_state == PaymentState.FAILED


def test_a_stripe_timeout_is_unknown_until_reconciliation_finds_the_authorization(fake):
    order = make_order(total=12_500)
    fake.inject("slow", path="/v1/payment_intents")

    authorization = request_authorization(order)
    assert authorization.status == AuthorizationStatus.UNKNOWN

    settled = authorization_reconcile(authorization)

    (intent,) = fake.intents.values()
    assert settled.status == AuthorizationStatus.AUTHORIZED
    assert settled.gateway_reference == intent["id"]
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
