"""The PayPal adapter, over real HTTP, against a fake of PayPal's Orders and Payments APIs."""

import json
import socket
from datetime import datetime, timedelta

import pytest

from orderdesk.payments.gateways.base import (
    GatewayError,
    GatewayTimeout,
    GatewayUnavailable,
    ResultStatus,
)
from orderdesk.payments.gateways.paypal import PayPalGateway
from orderdesk.payments.gateways.paypal_results import paypal_value
from tests.contract.fakes.paypal_api import CLIENT_ID, CLIENT_SECRET, FakePayPal


@pytest.fixture
def fake(settings):
    server = FakePayPal().start()
    settings.ORDERDESK_PAYPAL_CLIENT_ID = CLIENT_ID
    settings.ORDERDESK_PAYPAL_CLIENT_SECRET = CLIENT_SECRET
    settings.ORDERDESK_PAYPAL_API_BASE = server.url
    settings.ORDERDESK_GATEWAY_TIMEOUT_SECONDS = 0.5
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    yield server
    server.stop()


@pytest.fixture
def gateway():
    return PayPalGateway()


def approved_order(fake, gateway, amount=12_500, currency="USD"):
    token, _ = gateway.approval_start(
        amount=amount, currency=currency, return_url="http://shop.example/pay/abc"
    )
    fake.approve(token.removeprefix("paypal:"), payer_email="payer@example.com")
    return token


def authorize(gateway, token, *, amount=12_500, key="auth-1", currency="USD"):
    return gateway.authorize(
        amount=amount,
        currency=currency,
        payment_token=token,
        idempotency_key=key,
        order_reference="R-1001",
    )


def test_approval_start_creates_an_authorize_order_and_returns_the_approve_link(fake, gateway):
    token, approve_url = gateway.approval_start(
        amount=12_345, currency="USD", return_url="http://shop.example/pay/abc"
    )

    order_id = token.removeprefix("paypal:")
    assert approve_url == f"{fake.url}/checkoutnow?token={order_id}"
    order = fake.orders[order_id]
    assert order["intent"] == "AUTHORIZE"
    assert order["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "123.45"}
    assert order["return_url"] == "http://shop.example/pay/abc?paypal=approved"


def test_authorize_sends_the_request_id_and_reports_the_payer(fake, gateway):
    token = approved_order(fake, gateway)

    result = authorize(gateway, token)

    assert result.status == ResultStatus.AUTHORIZED
    assert (result.amount, result.currency) == (12_500, "USD")
    assert result.payer_email == "payer@example.com"
    assert result.reference in fake.authorizations
    (request,) = fake.requests_to("/authorize")
    assert request.header("paypal-request-id") == "auth-1"


def test_paypals_expiration_time_is_reported_as_the_expiry(fake, gateway):
    result = authorize(gateway, approved_order(fake, gateway))

    expiration = fake.authorizations[result.reference]["expiration_time"]
    assert result.expires_at == datetime.fromisoformat(expiration.replace("Z", "+00:00"))


def test_the_access_token_is_fetched_once_and_reused_until_it_expires(fake, gateway):
    token = approved_order(fake, gateway)
    authorize(gateway, token)
    assert fake.token_requests == 1

    fake.offset = timedelta(seconds=fake.token_lifetime)  # PayPal now refuses the old token
    gateway.approval_start(amount=100, currency="USD", return_url="http://shop.example/r")

    assert fake.token_requests == 2


def test_an_order_the_payer_did_not_approve_is_declined(fake, gateway):
    token, _ = gateway.approval_start(
        amount=12_500, currency="USD", return_url="http://shop.example/r"
    )

    result = authorize(gateway, token)

    assert (result.status, result.decline_code) == (ResultStatus.DECLINED, "order_not_approved")


def test_a_declined_funding_instrument_is_declined(fake, gateway):
    token, _ = gateway.approval_start(
        amount=12_500, currency="USD", return_url="http://shop.example/r"
    )
    fake.decline_funding(token.removeprefix("paypal:"))

    result = authorize(gateway, token)

    assert (result.status, result.decline_code) == (ResultStatus.DECLINED, "instrument_declined")
    assert fake.authorizations == {}


def test_a_token_that_is_not_a_paypal_order_is_declined_without_calling_paypal(fake, gateway):
    result = authorize(gateway, "tok_sbx_card")

    assert (result.status, result.decline_code) == (ResultStatus.DECLINED, "invalid_token")
    assert fake.log == []


def test_repeating_an_authorization_with_its_request_id_never_authorizes_twice(fake, gateway):
    token = approved_order(fake, gateway)

    first = authorize(gateway, token)
    second = authorize(gateway, token)

    assert (second.status, second.reference) == (ResultStatus.AUTHORIZED, first.reference)
    assert len(fake.authorizations) == 1


def test_a_second_authorization_of_the_same_order_under_a_new_key_is_refused(fake, gateway):
    token = approved_order(fake, gateway)
    authorize(gateway, token, key="auth-1")

    result = authorize(gateway, token, key="auth-2")

    assert result.decline_code == "order_already_authorized"
    assert len(fake.authorizations) == 1


def test_a_request_id_reused_for_another_request_is_refused(fake, gateway):
    token = approved_order(fake, gateway)
    authorized = authorize(gateway, token, key="shared-key")

    result = gateway.capture(
        reference=authorized.reference, amount=12_500, currency="USD", idempotency_key="shared-key"
    )

    assert result.decline_code == "paypal_request_id_previously_used"
    assert fake.authorizations[authorized.reference]["status"] == "CREATED"


def test_an_order_approved_for_another_amount_is_released_not_kept(fake, gateway):
    token = approved_order(fake, gateway, amount=10_000)

    result = authorize(gateway, token, amount=12_500)

    assert (result.status, result.decline_code) == (ResultStatus.ERROR, "amount_mismatch")
    assert fake.authorizations[result.reference]["status"] == "VOIDED"


def test_a_lost_response_is_a_timeout_and_fetch_finds_the_authorization(fake, gateway):
    token = approved_order(fake, gateway)
    fake.inject("slow", path="/authorize")
    with pytest.raises(GatewayTimeout):
        authorize(gateway, token, key="auth-lost")

    found = gateway.fetch(idempotency_key="auth-lost")

    (authorization,) = fake.authorizations.values()
    assert (found.status, found.reference) == (ResultStatus.AUTHORIZED, authorization["id"])
    assert found.expires_at is not None


def test_fetch_in_another_process_uses_the_order_id_it_is_given(fake, gateway):
    token = approved_order(fake, gateway)
    authorize(gateway, token, key="auth-1")

    found = PayPalGateway().fetch(idempotency_key="auth-1", reference=token)

    assert found.status == ResultStatus.AUTHORIZED


def test_fetch_without_the_order_id_refuses_to_guess(fake, gateway):
    with pytest.raises(GatewayError, match="cannot be searched"):
        gateway.fetch(idempotency_key="auth-from-elsewhere")


def test_fetch_of_an_approved_order_never_authorized_is_not_found(fake, gateway):
    token = approved_order(fake, gateway)
    fake.inject("unavailable", path="/authorize")
    with pytest.raises(GatewayUnavailable):
        authorize(gateway, token, key="auth-1")

    assert gateway.fetch(idempotency_key="auth-1").status == ResultStatus.NOT_FOUND


def test_a_retry_after_a_lost_response_gets_the_original_authorization(fake, gateway, settings):
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 1
    token = approved_order(fake, gateway)
    fake.inject("slow", path="/authorize")

    result = authorize(gateway, token, key="auth-retried")

    assert result.status == ResultStatus.AUTHORIZED
    assert len(fake.authorizations) == 1
    ids = [r.header("paypal-request-id") for r in fake.requests_to("/authorize")]
    assert ids == ["auth-retried", "auth-retried"]


def test_a_500_is_an_unknown_outcome(fake, gateway):
    token = approved_order(fake, gateway)
    fake.inject("server_error", path="/authorize")

    with pytest.raises(GatewayTimeout):
        authorize(gateway, token)


def test_a_refused_connection_is_unavailable(fake, gateway, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ORDERDESK_PAYPAL_API_BASE = f"http://127.0.0.1:{port}"

    with pytest.raises(GatewayUnavailable):
        authorize(gateway, "5O190127TN364715T")


def test_capture_sends_the_exact_decimal_amount(fake, gateway):
    authorized = authorize(gateway, approved_order(fake, gateway))

    result = gateway.capture(
        reference=authorized.reference, amount=10_005, currency="USD", idempotency_key="cap-1"
    )

    assert result.status == ResultStatus.CAPTURED
    (request,) = fake.requests_to("/capture")
    assert json.loads(request.body)["amount"] == {"currency_code": "USD", "value": "100.05"}
    assert request.header("paypal-request-id") == "cap-1"
    assert fake.authorizations[authorized.reference]["status"] == "CAPTURED"


def test_capturing_more_than_authorized_is_refused(fake, gateway):
    authorized = authorize(gateway, approved_order(fake, gateway))

    result = gateway.capture(
        reference=authorized.reference, amount=12_501, currency="USD", idempotency_key="cap-1"
    )

    assert (result.status, result.decline_code) == (
        ResultStatus.DECLINED,
        "max_capture_amount_exceeded",
    )


def test_void_releases_the_authorization_and_a_second_void_is_still_voided(fake, gateway):
    authorized = authorize(gateway, approved_order(fake, gateway))

    first = gateway.void(reference=authorized.reference, idempotency_key="void-1")
    second = gateway.void(reference=authorized.reference, idempotency_key="void-2")

    assert (first.status, second.status) == (ResultStatus.VOIDED, ResultStatus.VOIDED)
    assert fake.authorizations[authorized.reference]["status"] == "VOIDED"


def test_reauthorization_inside_the_honor_period_is_refused(fake, gateway):
    authorized = authorize(gateway, approved_order(fake, gateway))

    result = gateway.reauthorize(
        reference=authorized.reference, amount=12_500, currency="USD", idempotency_key="reauth-1"
    )

    assert result.decline_code == "cannot_reauth_inside_honor_period"


def test_reauthorization_after_the_honor_period_gives_a_new_authorization(fake, gateway):
    authorized = authorize(gateway, approved_order(fake, gateway))
    fake.offset = timedelta(days=4)

    result = gateway.reauthorize(
        reference=authorized.reference, amount=12_500, currency="USD", idempotency_key="reauth-1"
    )

    assert result.status == ResultStatus.AUTHORIZED
    assert result.reference != authorized.reference
    assert result.expires_at == authorized.expires_at  # the 29-day period does not restart


def test_amounts_become_paypal_decimal_strings_exactly():
    assert paypal_value(12_345, "USD") == "123.45"
    assert paypal_value(5, "USD") == "0.05"
    assert paypal_value(1_000_000_000_000_001, "USD") == "10000000000000.01"
    assert paypal_value(500, "JPY") == "500"
    assert paypal_value(1_234, "BHD") == "1.234"
    assert paypal_value(50_000, "HUF") == "500"
    with pytest.raises(GatewayError):
        paypal_value(50_001, "HUF")


def test_lookup_reports_a_captured_authorization(fake, gateway):
    held = authorize(gateway, approved_order(fake, gateway))
    gateway.capture(
        reference=held.reference, amount=12_500, currency="USD", idempotency_key="cap-1"
    )

    assert gateway.lookup(reference=held.reference).status == ResultStatus.CAPTURED


def test_lookup_reports_an_authorization_past_its_validity_as_expired(fake, gateway):
    held = authorize(gateway, approved_order(fake, gateway))
    fake.authorizations[held.reference]["status"] = "EXPIRED"

    assert gateway.lookup(reference=held.reference).status == ResultStatus.EXPIRED
