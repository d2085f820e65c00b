"""The PayPal adapter against PayPal's sandbox.

Runs only when ORDERDESK_PAYPAL_SANDBOX_CLIENT_ID and ORDERDESK_PAYPAL_SANDBOX_CLIENT_SECRET
hold sandbox REST app credentials. The payer's approval happens in a browser on PayPal's
page, so these checks stop short of authorizing.
"""

import os
import uuid

import pytest

from orderdesk.payments.gateways.base import ResultStatus
from orderdesk.payments.gateways.paypal import PayPalGateway
from orderdesk.payments.gateways.paypal_transport import SANDBOX_API_BASE

CLIENT_ID = os.environ.get("ORDERDESK_PAYPAL_SANDBOX_CLIENT_ID", "")
CLIENT_SECRET = os.environ.get("ORDERDESK_PAYPAL_SANDBOX_CLIENT_SECRET", "")

pytestmark = pytest.mark.skipif(
    not (CLIENT_ID and CLIENT_SECRET),
    reason="set ORDERDESK_PAYPAL_SANDBOX_CLIENT_ID and ORDERDESK_PAYPAL_SANDBOX_CLIENT_SECRET "
    "to run the PayPal sandbox checks",
)


@pytest.fixture
def gateway(settings):
    settings.ORDERDESK_PAYPAL_CLIENT_ID = CLIENT_ID
    settings.ORDERDESK_PAYPAL_CLIENT_SECRET = CLIENT_SECRET
    settings.ORDERDESK_PAYPAL_API_BASE = SANDBOX_API_BASE
    return PayPalGateway()


def test_sandbox_order_needs_the_payers_approval_before_authorizing(gateway):
    token, approve_url = gateway.approval_start(
        amount=1_250, currency="USD", return_url="https://shop.example/pay/live-test"
    )
    assert approve_url.startswith("https://")

    result = gateway.authorize(
        amount=1_250,
        currency="USD",
        payment_token=token,
        idempotency_key=f"auth-{uuid.uuid4()}",
        order_reference="LIVE-TEST",
    )

    assert result.status == ResultStatus.DECLINED
    assert result.decline_code in ("order_not_approved", "payer_action_required")
    assert gateway.fetch(idempotency_key="unused", reference=token).status == (
        ResultStatus.NOT_FOUND
    )
