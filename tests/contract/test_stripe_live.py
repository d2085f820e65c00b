"""The Stripe adapter against Stripe's own test mode.

Runs only when ORDERDESK_STRIPE_TEST_SECRET_KEY holds a test-mode secret key (sk_test_...);
a live-mode key is never used here.
"""

import os
import uuid

import pytest

from orderdesk.payments.gateways.base import ResultStatus
from orderdesk.payments.gateways.stripe_gateway import StripeGateway

SECRET = os.environ.get("ORDERDESK_STRIPE_TEST_SECRET_KEY", "")

pytestmark = pytest.mark.skipif(
    not SECRET.startswith("sk_test_"),
    reason="set ORDERDESK_STRIPE_TEST_SECRET_KEY to a Stripe test-mode key (sk_test_...) "
    "to run the Stripe test-mode checks",
)


@pytest.fixture
def gateway(settings):
    settings.ORDERDESK_STRIPE_SECRET_KEY = SECRET
    settings.ORDERDESK_STRIPE_API_BASE = ""
    return StripeGateway()


def authorize(gateway, token="pm_card_visa", key=None):
    return gateway.authorize(
        amount=1_250,
        currency="USD",
        payment_token=token,
        idempotency_key=key or f"auth-{uuid.uuid4()}",
        order_reference="LIVE-TEST",
    )


def test_test_mode_authorize_repeat_and_capture(gateway):
    key = f"auth-{uuid.uuid4()}"
    result = authorize(gateway, key=key)
    again = authorize(gateway, key=key)

    assert result.status == ResultStatus.AUTHORIZED
    assert result.expires_at is not None
    assert again.reference == result.reference
    captured = gateway.capture(
        reference=result.reference,
        amount=1_000,
        currency="USD",
        idempotency_key=f"cap-{uuid.uuid4()}",
    )
    assert captured.status == ResultStatus.CAPTURED


def test_test_mode_void(gateway):
    result = authorize(gateway)

    voided = gateway.void(reference=result.reference, idempotency_key=f"void-{uuid.uuid4()}")

    assert voided.status == ResultStatus.VOIDED


def test_test_mode_decline(gateway):
    result = authorize(gateway, token="pm_card_chargeDeclinedInsufficientFunds")

    assert (result.status, result.decline_code) == (ResultStatus.DECLINED, "insufficient_funds")
