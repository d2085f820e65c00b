"""Cards confirmed in the browser with Stripe.js: orderdesk creates the PaymentIntent (manual
capture, an idempotency key), the browser confirms it at Stripe, and orderdesk records the
hold only after reading it back from Stripe (through the real stripe library and the fake)."""

from urllib.parse import parse_qsl

import pytest
import requests

from orderdesk.orders.models import OrderStatus, PaymentState
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import (
    authorization_reconcile,
    authorization_request,
    card_intent_create,
)
from orderdesk.workflows.shipping import order_ship
from tests.contract.fakes.stripe_api import PUBLISHABLE_KEY, SECRET_KEY, FakeStripe
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    server = FakeStripe().start()
    settings.ORDERDESK_GATEWAY = "stripe"
    settings.ORDERDESK_STRIPE_SECRET_KEY = SECRET_KEY
    settings.ORDERDESK_STRIPE_API_BASE = server.url
    settings.ORDERDESK_GATEWAY_TIMEOUT_SECONDS = 0.5
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    yield server
    server.stop()


def browser_confirm(fake, intent, number="4242424242424242"):
    """What Stripe.js sends from its own frame: the publishable key, never the secret."""
    return requests.post(
        f"{fake.url}/v1/payment_intents/{intent.reference}/confirm",
        data={
            "key": PUBLISHABLE_KEY,
            "client_secret": intent.client_secret,
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": number,
        },
        timeout=5,
    )


def record(order, token, actor=None, source=AuthorizationSource.MANUAL):
    return authorization_request(
        order=order, payment_token=token, method="card", source=source, actor=actor
    )


def test_the_intent_is_created_with_manual_capture_and_an_idempotency_key(fake, csr):
    order = make_order(total=12_500)

    intent = card_intent_create(order=order, source=AuthorizationSource.MANUAL, actor=csr)

    (create,) = fake.requests_to("/v1/payment_intents")
    sent = dict(parse_qsl(create.body.decode()))
    assert create.header("idempotency-key").startswith("intent-")
    assert (sent["capture_method"], sent["amount"], sent["currency"]) == ("manual", "12500", "usd")
    assert sent["metadata[orderdesk_order]"] == order.number
    assert intent.client_secret.startswith(intent.reference + "_secret_")
    assert not Authorization.objects.exists()  # nothing is held until the browser confirms


def test_a_confirmed_intent_is_recorded_as_the_authorization_and_captured_at_shipment(fake, csr):
    order = make_order(total=12_500, status="ready_to_ship")
    intent = card_intent_create(order=order, source=AuthorizationSource.MANUAL, actor=csr)
    assert browser_confirm(fake, intent).status_code == 200

    authorization = record(order, intent.reference, actor=csr)

    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert authorization.gateway_reference == intent.reference
    assert authorization.instrument == "Visa •••• 4242"
    order_ship(order=order, actor=csr)
    order.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, PaymentState.PAID)
    assert fake.intents[intent.reference]["status"] == "succeeded"


def test_a_card_declined_in_the_browser_is_recorded_as_declined_with_its_reason(fake, csr):
    order = make_order(total=12_500)
    intent = card_intent_create(order=order, source=AuthorizationSource.MANUAL, actor=csr)
    assert browser_confirm(fake, intent, "4000000000009995").status_code == 402

    authorization = record(order, intent.reference, actor=csr)

    assert authorization.status == AuthorizationStatus.DECLINED
    assert authorization.decline_code == "insufficient_funds"


def test_an_intent_never_confirmed_is_not_a_hold(fake, csr):
    order = make_order(total=12_500)
    intent = card_intent_create(order=order, source=AuthorizationSource.MANUAL, actor=csr)

    authorization = record(order, intent.reference, actor=csr)

    assert authorization.status == AuthorizationStatus.DECLINED
    order.refresh_from_db()
    assert order.payment_state != PaymentState.AUTHORIZED


def test_an_intent_made_for_another_order_is_refused_and_left_alone(fake, csr):
    other = make_order(total=12_500)
    intent = card_intent_create(order=other, source=AuthorizationSource.MANUAL, actor=csr)
    browser_confirm(fake, intent)
    order = make_order(total=12_500)

    authorization = record(order, intent.reference, actor=csr)

    assert (authorization.status, authorization.decline_code) == ("declined", "intent_mismatch")
    assert fake.intents[intent.reference]["status"] == "requires_capture"


def test_an_intent_confirmed_for_another_amount_is_released_not_recorded(fake, csr):
    order = make_order(total=12_500)
    intent = card_intent_create(order=order, source=AuthorizationSource.MANUAL, actor=csr)
    browser_confirm(fake, intent)

    authorization = authorization_request(
        order=order,
        payment_token=intent.reference,
        method="card",
        source=AuthorizationSource.CUSTOMER_LINK,
        amount=15_000,
    )

    assert (authorization.status, authorization.decline_code) == ("error", "amount_mismatch")
    assert fake.intents[intent.reference]["status"] == "canceled"


def test_a_lost_answer_is_unknown_until_reconciliation_reads_the_intent(fake, csr):
    order = make_order(total=12_500)
    intent = card_intent_create(order=order, source=AuthorizationSource.MANUAL, actor=csr)
    browser_confirm(fake, intent)
    fake.inject("slow", path=f"/v1/payment_intents/{intent.reference}")

    authorization = record(order, intent.reference, actor=csr)
    assert authorization.status == AuthorizationStatus.UNKNOWN

    settled = authorization_reconcile(authorization)
    assert (settled.status, settled.gateway_reference) == ("authorized", intent.reference)


def test_no_intent_is_created_for_an_order_that_owes_nothing_or_is_secured(fake, csr):
    order = make_order(total=12_500)
    intent = card_intent_create(order=order, source=AuthorizationSource.MANUAL, actor=csr)
    browser_confirm(fake, intent)
    record(order, intent.reference, actor=csr)
    created = len(fake.intents)

    with pytest.raises(Exception, match="already secured"):
        card_intent_create(order=order, source=AuthorizationSource.MANUAL, actor=csr)
    assert len(fake.intents) == created
