"""orderdesk's payment services with the PayPal adapter, end to end against the fake."""

from datetime import datetime

import pytest

from orderdesk.orders.models import OrderStatus, PaymentState
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.models import AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import (
    authorization_reconcile,
    authorization_request,
    void_steps_deliver,
)
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.shipping import order_ship
from tests.contract.fakes.paypal_api import CLIENT_ID, CLIENT_SECRET, FakePayPal
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    server = FakePayPal().start()
    settings.ORDERDESK_PAYPAL_CLIENT_ID = CLIENT_ID
    settings.ORDERDESK_PAYPAL_CLIENT_SECRET = CLIENT_SECRET
    settings.ORDERDESK_PAYPAL_API_BASE = server.url
    settings.ORDERDESK_GATEWAY_TIMEOUT_SECONDS = 0.5
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    settings.ORDERDESK_AUTHORIZATION_POLICIES = "paypal:paypal=10"
    yield server
    server.stop()


def approve_and_authorize(fake, order):
    token, _ = get_gateway("paypal").approval_start(
        amount=order.total, currency=order.currency, return_url="http://shop.example/pay/t"
    )
    fake.approve(token.removeprefix("paypal:"), payer_email="payer@example.com")
    return authorization_request(
        order=order,
        payment_token=token,
        method="paypal",
        source=AuthorizationSource.CUSTOMER_LINK,
        gateway_name="paypal",
    )


def test_an_order_paid_with_paypal_is_captured_when_it_ships(fake, csr):
    order = make_order(status="ready_to_ship", total=12_500, payment_method="paypal")

    authorization = approve_and_authorize(fake, order)
    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert authorization.payer_email == "payer@example.com"

    order_ship(order=order, actor=csr)

    order.refresh_from_db()
    authorization.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.PAID)
    assert authorization.status == AuthorizationStatus.CAPTURED
    assert fake.authorizations[authorization.gateway_reference]["status"] == "CAPTURED"


def test_paypals_expiration_time_wins_over_the_configured_policy(fake):
    order = make_order(total=12_500, payment_method="paypal")

    authorization = approve_and_authorize(fake, order)

    expiration = fake.authorizations[authorization.gateway_reference]["expiration_time"]
    assert authorization.expires_at == datetime.fromisoformat(expiration.replace("Z", "+00:00"))


def test_cancelling_an_order_voids_its_paypal_authorization(fake, supervisor):
    order = make_order(total=12_500, payment_method="paypal")
    authorization = approve_and_authorize(fake, order)

    order_cancel(order=order, actor=supervisor, note="customer changed their mind")
    void_steps_deliver()  # the worker

    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.VOIDED
    assert fake.authorizations[authorization.gateway_reference]["status"] == "VOIDED"


def test_a_paypal_timeout_is_unknown_until_reconciliation_finds_the_authorization(fake):
    order = make_order(total=12_500, payment_method="paypal")
    fake.inject("slow", path="/authorize")

    authorization = approve_and_authorize(fake, order)
    assert authorization.status == AuthorizationStatus.UNKNOWN

    settled = authorization_reconcile(authorization)

    (at_paypal,) = fake.authorizations.values()
    assert (settled.status, settled.gateway_reference) == (
        AuthorizationStatus.AUTHORIZED,
        at_paypal["id"],
    )
