"""A gateway per payment method; an existing authorization stays with the gateway that made it."""

import pytest

from orderdesk.payments.gateways.base import GatewayError
from orderdesk.payments.gateways.registry import gateway_name_for, gateways_by_method
from orderdesk.payments.models import AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import (
    authorization_request,
    authorization_void,
    void_steps_deliver,
)
from tests.contract.fakes.stripe_api import SECRET_KEY, FakeStripe
from tests.factories import card_token, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_stripe(settings):
    server = FakeStripe().start()
    settings.ORDERDESK_STRIPE_SECRET_KEY = SECRET_KEY
    settings.ORDERDESK_STRIPE_API_BASE = server.url
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    yield server
    server.stop()


def test_each_method_goes_to_its_own_gateway_and_others_to_the_default(settings):
    settings.ORDERDESK_GATEWAY = "sandbox"
    settings.ORDERDESK_GATEWAYS = "card:stripe, paypal:paypal"
    assert gateways_by_method() == {"card": "stripe", "paypal": "paypal"}
    assert (gateway_name_for("card"), gateway_name_for("paypal")) == ("stripe", "paypal")
    assert gateway_name_for("terms") == "sandbox"


def test_without_gateways_per_method_every_method_uses_orderdesk_gateway(settings):
    settings.ORDERDESK_GATEWAY = "stripe"
    settings.ORDERDESK_GATEWAYS = ""
    assert gateway_name_for("card") == gateway_name_for("paypal") == "stripe"


@pytest.mark.parametrize("text", ["card", "card:adyen", ":stripe", "card=stripe"])
def test_a_malformed_or_unknown_gateway_per_method_is_refused(text):
    with pytest.raises(GatewayError):
        gateways_by_method(text)


def test_a_card_authorization_goes_to_the_cards_gateway(settings, fake_stripe):
    settings.ORDERDESK_GATEWAY = "sandbox"
    settings.ORDERDESK_GATEWAYS = "card:stripe"
    authorization = authorization_request(
        order=make_order(total=4_000),
        payment_token="pm_card_visa",
        method="card",
        source=AuthorizationSource.STOREFRONT,
    )
    assert (authorization.gateway, authorization.status) == (
        "stripe",
        AuthorizationStatus.AUTHORIZED,
    )
    assert authorization.gateway_reference in fake_stripe.intents


def test_an_existing_authorization_is_voided_by_the_gateway_that_made_it(settings, fake_stripe):
    settings.ORDERDESK_GATEWAY = "sandbox"
    settings.ORDERDESK_GATEWAYS = ""
    authorization = authorization_request(
        order=make_order(total=4_000),
        payment_token=card_token(),
        method="card",
        source=AuthorizationSource.STOREFRONT,
    )
    settings.ORDERDESK_GATEWAYS = "card:stripe"  # the business moves its cards to Stripe

    authorization_void(authorization, reason="cancelled")
    void_steps_deliver()

    authorization.refresh_from_db()
    assert (authorization.gateway, authorization.status) == ("sandbox", AuthorizationStatus.VOIDED)
    assert fake_stripe.intents == {}
