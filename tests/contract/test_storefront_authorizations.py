"""Authorizations the storefront made at checkout, recorded through POST /api/orders: checked
with the gateway (through the real client libraries against the local fakes), then captured
at shipment and voided on cancellation by their reference; a mismatch is refused."""

from datetime import timedelta

import pytest
import stripe

from orderdesk.common.clock import now
from orderdesk.orders.models import Order, PaymentState
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.services import void_steps_deliver
from orderdesk.sandbox import server
from tests.api.conftest import ApiClient, key_for
from tests.contract.fakes.paypal_api import CLIENT_ID, CLIENT_SECRET, FakePayPal
from tests.contract.fakes.stripe_api import SECRET_KEY, FakeStripe
from tests.factories import card_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_stripe(settings):
    fake = FakeStripe().start()
    settings.ORDERDESK_STRIPE_SECRET_KEY = SECRET_KEY
    settings.ORDERDESK_STRIPE_API_BASE = fake.url
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    settings.ORDERDESK_GATEWAYS = "card:stripe"
    settings.ORDERDESK_AUTHORIZATION_POLICIES = "stripe:card=29"
    yield fake
    fake.stop()


@pytest.fixture
def fake_paypal(settings):
    fake = FakePayPal().start()
    settings.ORDERDESK_PAYPAL_CLIENT_ID = CLIENT_ID
    settings.ORDERDESK_PAYPAL_CLIENT_SECRET = CLIENT_SECRET
    settings.ORDERDESK_PAYPAL_API_BASE = fake.url
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    settings.ORDERDESK_GATEWAYS = "paypal:paypal"
    yield fake
    fake.stop()


def storefront_stripe_intent(fake, amount: int) -> str:
    """The storefront's own call to Stripe at checkout: confirm with manual capture."""
    client = stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": fake.url}, max_network_retries=0
    )
    intent = client.v1.payment_intents.create(
        {
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "manual",
            "confirm": True,
        }
    )
    return intent["id"]


def storefront_paypal_authorization(fake, amount: int) -> str:
    """The storefront's own PayPal checkout: an order approved by the payer, authorized."""
    paypal = get_gateway("paypal")
    token, _ = paypal.approval_start(amount=amount, currency="USD", return_url="https://shop/x")
    fake.approve(token.removeprefix("paypal:"), payer_email="payer@example.com")
    result = paypal.authorize(
        amount=amount,
        currency="USD",
        payment_token=token,
        idempotency_key="storefront-checkout-1",
        order_reference="web-1",
    )
    return result.reference


def order_body(method, amount, authorization, number="WEB-1"):
    return {
        "number": number,
        "account": {"name": "Ada Shopper", "email": "ada@example.com"},
        "kind": "sale",
        "payment_method": method,
        "lines": [{"description": "Phone case", "unit_price": amount}],
        "authorization": authorization,
    }


def held(gateway, reference, amount, **extra):
    return {
        "gateway": gateway,
        "reference": reference,
        "amount": amount,
        "currency": "USD",
        "authorized_at": (now() - timedelta(hours=1)).isoformat(),
        **extra,
    }


@pytest.fixture
def csr_api(csr):
    return ApiClient(key_for(csr))


@pytest.fixture
def supervisor_api(supervisor):
    return ApiClient(key_for(supervisor))


def ready(csr_api, number):
    assert csr_api.post(f"/orders/{number}/status", {"status": "in_progress"}).status_code == 200
    assert csr_api.post(f"/orders/{number}/status", {"status": "ready_to_ship"}).status_code == 200


def test_a_storefront_stripe_authorization_is_recorded_and_captured_at_shipment(
    fake_stripe, csr_api
):
    reference = storefront_stripe_intent(fake_stripe, 4_500)

    created = csr_api.post("/orders", order_body("card", 4_500, held("stripe", reference, 4_500)))

    assert created.status_code == 201, created.content
    assert created.json()["payment_state"] == PaymentState.AUTHORIZED
    authorization = Authorization.objects.get(gateway_reference=reference)
    assert (authorization.gateway, authorization.card_last4) == ("stripe", "4242")
    ready(csr_api, "WEB-1")
    assert csr_api.post("/orders/WEB-1/ship", {}).status_code == 200
    assert fake_stripe.intents[reference]["status"] == "succeeded"
    assert fake_stripe.intents[reference]["amount_received"] == 4_500


def test_a_storefront_stripe_authorization_is_voided_when_the_order_is_cancelled(
    fake_stripe, csr_api, supervisor_api
):
    reference = storefront_stripe_intent(fake_stripe, 4_500)
    csr_api.post("/orders", order_body("card", 4_500, held("stripe", reference, 4_500)))

    answer = supervisor_api.post("/orders/WEB-1/cancel", {"reason": "customer_request"})

    assert answer.status_code == 200, answer.content
    void_steps_deliver()  # the worker
    assert fake_stripe.intents[reference]["status"] == "canceled"
    authorization = Authorization.objects.get(gateway_reference=reference)
    assert authorization.status == AuthorizationStatus.VOIDED


def test_a_storefront_paypal_authorization_is_captured_at_shipment(fake_paypal, csr_api):
    reference = storefront_paypal_authorization(fake_paypal, 3_000)

    created = csr_api.post("/orders", order_body("paypal", 3_000, held("paypal", reference, 3_000)))

    assert created.status_code == 201, created.content
    authorization = Authorization.objects.get(gateway_reference=reference)
    assert authorization.expires_at == fake_paypal_expiry(fake_paypal, reference)
    ready(csr_api, "WEB-1")
    assert csr_api.post("/orders/WEB-1/ship", {}).status_code == 200
    assert fake_paypal.authorizations[reference]["status"] == "CAPTURED"


def fake_paypal_expiry(fake, reference):
    from datetime import datetime

    text = fake.authorizations[reference]["expiration_time"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_storefront_paypal_authorization_is_voided_when_the_order_is_cancelled(
    fake_paypal, csr_api, supervisor_api
):
    reference = storefront_paypal_authorization(fake_paypal, 3_000)
    csr_api.post("/orders", order_body("paypal", 3_000, held("paypal", reference, 3_000)))

    assert supervisor_api.post("/orders/WEB-1/cancel", {"reason": "other"}).status_code == 200
    void_steps_deliver()  # the worker

    assert fake_paypal.authorizations[reference]["status"] == "VOIDED"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 4_600}, "authorization.amount"),
        ({"reference": "pi_doesnotexist000"}, "authorization.reference"),
        ({"gateway": "paypal"}, "authorization.gateway"),
    ],
)
def test_a_storefront_authorization_that_does_not_match_the_gateway_is_refused(
    fake_stripe, csr_api, change, field
):
    reference = storefront_stripe_intent(fake_stripe, 4_500)
    given = {**held("stripe", reference, 4_500), **change}

    answer = csr_api.post("/orders", order_body("card", given["amount"], given))

    assert answer.status_code == 409, answer.content
    assert answer.json()["detail"][0]["field"] == field
    assert not Order.objects.exists()
    assert not Authorization.objects.exists()


def test_a_storefront_authorization_already_captured_is_refused(fake_stripe, csr_api):
    reference = storefront_stripe_intent(fake_stripe, 4_500)
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake_stripe.url})
    client.v1.payment_intents.capture(reference)

    answer = csr_api.post("/orders", order_body("card", 4_500, held("stripe", reference, 4_500)))

    assert answer.status_code == 409
    assert "captured" in answer.json()["detail"][0]["reason"]
    assert not Order.objects.exists()


def test_one_storefront_authorization_cannot_pay_for_two_orders(csr_api, settings):
    reference = server.authorize(
        amount=2_000, currency="USD", token=card_token(), idempotency_key="shop-1"
    ).reference
    first = csr_api.post("/orders", order_body("card", 2_000, held("sandbox", reference, 2_000)))
    assert first.status_code == 201, first.content

    second = csr_api.post(
        "/orders", order_body("card", 2_000, held("sandbox", reference, 2_000), number="WEB-2")
    )

    assert second.status_code == 409
    assert "WEB-1" in second.json()["detail"][0]["reason"]
    assert not Order.objects.filter(number="WEB-2").exists()
