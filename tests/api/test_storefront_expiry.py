"""Rule 1 from the real checkout: an authorization the storefront made is good for 29 days
from its own `authorized_at`; one second past, the sweep expires it and re-triggering the
cart through the API e-mails the customer an Approve Order Payment link."""

from datetime import timedelta

import pytest
import time_machine

from orderdesk.cli import main
from orderdesk.common.clock import now
from orderdesk.orders.models import Order, PaymentState
from orderdesk.sandbox import server
from tests.api.conftest import ApiClient, key_for
from tests.factories import card_token
from tests.notifications.smtp import deliver_emails, link_in, smtp_server  # noqa: F401

VALIDITY = timedelta(days=29)


@pytest.mark.django_db(transaction=True)
def test_a_storefront_authorization_expires_29_days_after_checkout_and_the_cart_is_retriggered(
    csr,
    smtp_server,  # noqa: F811
):
    api = ApiClient(key_for(csr))
    moment = now().replace(microsecond=0)
    checkout = moment - VALIDITY + timedelta(seconds=1)
    with time_machine.travel(moment, tick=False):  # checkout exactly 29 days - 1 s ago
        reference = server.authorize(
            amount=9_900, currency="USD", token=card_token(), idempotency_key="shop-checkout-7"
        ).reference
        created = api.post(
            "/orders",
            {
                "number": "WEB-7",
                "account": {"name": "Bo Customer", "email": "bo@example.com"},
                "kind": "repair",
                "payment_method": "card",
                "lines": [{"description": "Laptop repair", "unit_price": 9_900}],
                "authorization": {
                    "gateway": "sandbox",
                    "reference": reference,
                    "amount": 9_900,
                    "authorized_at": checkout.isoformat(),
                },
            },
        )
        assert created.status_code == 201, created.content
        assert created.json()["payment_state"] == PaymentState.AUTHORIZED  # 29 days minus 1 second
        order = Order.objects.get(number="WEB-7")
        assert order.payment_expires_at == checkout + VALIDITY

    with time_machine.travel(checkout + VALIDITY + timedelta(seconds=1), tick=False):
        assert main(["sweep"]) == 0
        order.refresh_from_db()
        assert order.payment_state == PaymentState.EXPIRED

        answer = api.post("/orders/WEB-7/reauthorization-links", {})
        assert answer.status_code == 201, answer.content
        deliver_emails()

    [message] = smtp_server.to("bo@example.com")
    assert "approve the payment for order WEB-7" in message["Subject"]
    assert "/pay/" in link_in(message)
