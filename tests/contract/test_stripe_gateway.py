"""The Stripe adapter, through the real `stripe` library, against a fake of Stripe's API."""

import socket
from datetime import datetime, timezone
from urllib.parse import parse_qsl

import pytest

from orderdesk.payments.gateways.base import GatewayTimeout, GatewayUnavailable, ResultStatus
from orderdesk.payments.gateways.stripe_gateway import StripeGateway, stripe_amount
from tests.contract.fakes.stripe_api import SECRET_KEY, FakeStripe


@pytest.fixture
def fake(settings):
    server = FakeStripe().start()
    settings.ORDERDESK_STRIPE_SECRET_KEY = SECRET_KEY
    settings.ORDERDESK_STRIPE_API_BASE = server.url
    settings.ORDERDESK_GATEWAY_TIMEOUT_SECONDS = 0.5
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    yield server
    server.stop()


@pytest.fixture
def gateway():
    return StripeGateway()


def authorize(gateway, *, token="pm_card_visa", amount=12_500, key="auth-1", currency="USD"):
    return gateway.authorize(
        amount=amount,
        currency=currency,
        payment_token=token,
        idempotency_key=key,
        order_reference="R-1001",
    )


def test_authorize_confirms_a_manual_capture_intent_with_the_idempotency_key(fake, gateway):
    result = authorize(gateway)

    assert result.status == ResultStatus.AUTHORIZED
    assert result.reference.startswith("pi_")
    assert (result.amount, result.currency) == (12_500, "USD")
    assert (result.card_brand, result.card_last4) == ("Visa", "4242")
    (request,) = fake.requests_to("/v1/payment_intents")
    assert request.header("idempotency-key") == "auth-1"
    sent = dict(parse_qsl(request.body.decode()))
    assert sent["amount"] == "12500"
    assert sent["currency"] == "usd"
    assert sent["capture_method"] == "manual"
    assert sent["confirm"] == "true"
    assert sent["payment_method"] == "pm_card_visa"
    assert sent["metadata[orderdesk_idempotency_key]"] == "auth-1"
    assert fake.intents[result.reference]["status"] == "requires_capture"


def test_the_cards_capture_deadline_is_reported_as_the_expiry(fake, gateway):
    result = authorize(gateway)

    charge = fake.charges[fake.intents[result.reference]["latest_charge"]]
    deadline = charge["payment_method_details"]["card"]["capture_before"]
    assert result.expires_at == datetime.fromtimestamp(deadline, tz=timezone.utc)


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        ("pm_card_chargeDeclined", ResultStatus.DECLINED, "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", ResultStatus.DECLINED, "insufficient_funds"),
        ("pm_card_chargeDeclinedProcessingError", ResultStatus.ERROR, "processing_error"),
    ],
)
def test_a_declined_card_reports_stripes_decline_code(fake, gateway, token, status, code):
    result = authorize(gateway, token=token)

    assert (result.status, result.decline_code) == (status, code)
    assert result.reference in fake.intents
    assert result.message


def test_an_unknown_payment_method_is_declined(fake, gateway):
    result = authorize(gateway, token="pm_does_not_exist")

    assert (result.status, result.decline_code) == (ResultStatus.DECLINED, "resource_missing")
    assert fake.intents == {}


def test_a_token_that_is_not_a_payment_method_is_declined_without_calling_stripe(fake, gateway):
    result = authorize(gateway, token="tok_sbx_something")

    assert (result.status, result.decline_code) == (ResultStatus.DECLINED, "invalid_token")
    assert fake.log == []


def test_repeating_an_authorization_with_its_key_never_authorizes_twice(fake, gateway):
    first = authorize(gateway)
    second = authorize(gateway)

    assert second.reference == first.reference
    assert len(fake.intents) == 1


def test_reusing_a_key_with_another_amount_is_refused_and_authorizes_nothing(fake, gateway):
    authorize(gateway, amount=12_500)
    result = authorize(gateway, amount=99_900)

    assert (result.status, result.decline_code) == (ResultStatus.ERROR, "declined")
    assert "same parameters" in result.message
    assert len(fake.intents) == 1


def test_a_lost_response_is_a_timeout_and_fetch_finds_the_authorization(fake, gateway):
    fake.inject("slow", path="/v1/payment_intents")
    with pytest.raises(GatewayTimeout):
        authorize(gateway, key="auth-lost")

    found = gateway.fetch(idempotency_key="auth-lost")

    (intent,) = fake.intents.values()
    assert (found.status, found.reference) == (ResultStatus.AUTHORIZED, intent["id"])
    assert found.expires_at is not None
    assert (found.card_brand, found.card_last4) == ("Visa", "4242")


def test_a_retry_after_a_lost_response_gets_the_original_answer(fake, gateway, settings):
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 1
    fake.inject("slow", path="/v1/payment_intents")

    result = authorize(gateway, key="auth-retried")

    assert result.status == ResultStatus.AUTHORIZED
    assert len(fake.intents) == 1
    keys = [r.header("idempotency-key") for r in fake.requests_to("/v1/payment_intents")]
    assert keys == ["auth-retried", "auth-retried"]


def test_fetch_of_a_key_stripe_never_saw_is_not_found(fake, gateway):
    assert gateway.fetch(idempotency_key="auth-never-sent").status == ResultStatus.NOT_FOUND


def test_fetch_reports_a_declined_attempt_as_declined(fake, gateway):
    authorize(gateway, token="pm_card_chargeDeclined", key="auth-declined")

    found = gateway.fetch(idempotency_key="auth-declined")

    assert (found.status, found.decline_code) == (ResultStatus.DECLINED, "generic_decline")


def test_a_503_is_unavailable_and_nothing_was_authorized(fake, gateway):
    fake.inject("unavailable", path="/v1/payment_intents")

    with pytest.raises(GatewayUnavailable):
        authorize(gateway)
    assert fake.intents == {}


def test_a_500_is_an_unknown_outcome(fake, gateway):
    fake.inject("server_error", path="/v1/payment_intents")

    with pytest.raises(GatewayTimeout):
        authorize(gateway)


def test_a_refused_connection_is_unavailable(fake, gateway, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ORDERDESK_STRIPE_API_BASE = f"http://127.0.0.1:{port}"

    with pytest.raises(GatewayUnavailable):
        authorize(gateway)


def test_a_wrong_secret_key_is_an_error_result(fake, gateway, settings):
    settings.ORDERDESK_STRIPE_SECRET_KEY = "sk_test_wrong"

    result = authorize(gateway)

    assert result.status == ResultStatus.ERROR
    assert fake.intents == {}


def test_capture_takes_the_amount_to_capture(fake, gateway):
    authorized = authorize(gateway, amount=12_500)

    result = gateway.capture(
        reference=authorized.reference, amount=10_000, currency="USD", idempotency_key="cap-1"
    )

    assert result.status == ResultStatus.CAPTURED
    intent = fake.intents[authorized.reference]
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 10_000)
    (request,) = fake.requests_to("/capture")
    assert request.header("idempotency-key") == "cap-1"


def test_capturing_more_than_authorized_is_refused(fake, gateway):
    authorized = authorize(gateway, amount=12_500)

    result = gateway.capture(
        reference=authorized.reference, amount=12_501, currency="USD", idempotency_key="cap-1"
    )

    assert (result.status, result.decline_code) == (ResultStatus.DECLINED, "amount_too_large")
    assert fake.intents[authorized.reference]["status"] == "requires_capture"


def test_a_capture_already_made_counts_as_captured(fake, gateway):
    authorized = authorize(gateway)
    gateway.capture(
        reference=authorized.reference, amount=12_500, currency="USD", idempotency_key="cap-1"
    )

    again = gateway.capture(
        reference=authorized.reference, amount=12_500, currency="USD", idempotency_key="cap-2"
    )

    assert again.status == ResultStatus.CAPTURED


def test_void_cancels_the_intent_and_a_second_void_is_still_voided(fake, gateway):
    authorized = authorize(gateway)

    first = gateway.void(reference=authorized.reference, idempotency_key="void-1")
    second = gateway.void(reference=authorized.reference, idempotency_key="void-2")

    assert (first.status, second.status) == (ResultStatus.VOIDED, ResultStatus.VOIDED)
    assert fake.intents[authorized.reference]["status"] == "canceled"


def test_a_captured_intent_cannot_be_voided(fake, gateway):
    authorized = authorize(gateway)
    gateway.capture(
        reference=authorized.reference, amount=12_500, currency="USD", idempotency_key="cap-1"
    )

    result = gateway.void(reference=authorized.reference, idempotency_key="void-1")

    assert (result.status, result.decline_code) == (
        ResultStatus.DECLINED,
        "payment_intent_unexpected_state",
    )


def test_amounts_go_to_stripe_in_its_own_minor_units():
    assert stripe_amount(12_345, "USD") == 12_345
    assert stripe_amount(500, "JPY") == 500
    assert stripe_amount(5, "ISK") == 500  # Stripe takes ISK as a two-decimal amount


def test_lookup_reports_a_captured_intent_with_the_amount_received(fake, gateway):
    held = authorize(gateway)
    gateway.capture(
        reference=held.reference, amount=10_000, currency="USD", idempotency_key="cap-1"
    )

    found = gateway.lookup(reference=held.reference)

    assert (found.status, found.amount) == (ResultStatus.CAPTURED, 10_000)


def test_lookup_reports_a_cancelled_hold_as_voided(fake, gateway):
    held = authorize(gateway)
    gateway.void(reference=held.reference, idempotency_key="void-1")

    assert gateway.lookup(reference=held.reference).status == ResultStatus.VOIDED


def test_lookup_reports_an_intent_stripe_cancelled_itself_as_expired(fake, gateway):
    held = authorize(gateway)
    # Stripe cancels an uncaptured intent past its validity, with the reason `automatic`.
    fake.intents[held.reference].update(status="canceled", cancellation_reason="automatic")

    assert gateway.lookup(reference=held.reference).status == ResultStatus.EXPIRED
