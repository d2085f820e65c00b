"""The sandbox behaves like a real gateway: test cards, idempotency keys, PayPal-style approval."""

import pytest

from orderdesk.orders.models import PaymentState
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.base import ResultStatus
from orderdesk.payments.gateways.sandbox import SandboxGateway
from orderdesk.payments.models import AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import authorization_request
from orderdesk.sandbox import server
from orderdesk.sandbox.models import SandboxTransaction
from tests.factories import (
    APPROVE_CARD,
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
    PROCESSOR_ERROR_CARD,
    authorize,
    card_token,
    make_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway():
    return SandboxGateway()


def gateway_authorize(gateway, token, key="key-1", amount=5_000):
    return gateway.authorize(
        amount=amount, currency="USD", payment_token=token, idempotency_key=key, order_reference="1"
    )


def test_the_sandbox_is_the_default_gateway():
    assert isinstance(get_gateway(), SandboxGateway)
    assert get_gateway("sandbox") is get_gateway()


@pytest.mark.parametrize(
    ("number", "status", "decline_code", "brand", "last4"),
    [
        (APPROVE_CARD, ResultStatus.AUTHORIZED, "", "Visa", "4242"),
        ("5555555555554444", ResultStatus.AUTHORIZED, "", "Mastercard", "4444"),
        ("378282246310005", ResultStatus.AUTHORIZED, "", "Amex", "0005"),
        (DECLINE_CARD, ResultStatus.DECLINED, "card_declined", "Visa", "0002"),
        (INSUFFICIENT_FUNDS_CARD, ResultStatus.DECLINED, "insufficient_funds", "Visa", "9995"),
        (PROCESSOR_ERROR_CARD, ResultStatus.ERROR, "processing_error", "Visa", "0119"),
    ],
)
def test_test_cards_behave_as_documented(gateway, number, status, decline_code, brand, last4):
    result = gateway_authorize(gateway, card_token(number))
    assert (result.status, result.decline_code) == (status, decline_code)
    assert (result.card_brand, result.card_last4, result.amount) == (brand, last4, 5_000)
    record = SandboxTransaction.objects.get(reference=result.reference)
    assert (record.kind, record.status, record.idempotency_key) == (
        "authorization",
        status,
        "key-1",
    )


@pytest.mark.parametrize(
    ("number", "status", "payment_state"),
    [
        (APPROVE_CARD, AuthorizationStatus.AUTHORIZED, PaymentState.AUTHORIZED),
        (DECLINE_CARD, AuthorizationStatus.DECLINED, PaymentState.FAILED),
        (INSUFFICIENT_FUNDS_CARD, AuthorizationStatus.DECLINED, PaymentState.FAILED),
        (PROCESSOR_ERROR_CARD, AuthorizationStatus.ERROR, PaymentState.FAILED),
    ],
)
def test_test_cards_through_the_authorization_service(number, status, payment_state):
    order = make_order()
    authorization = authorize(order, number)
    order.refresh_from_db()
    assert authorization.status == status
    assert authorization.card_last4 == number[-4:]
    assert order.payment_state == payment_state
    assert (authorization.expires_at is not None) == (status == AuthorizationStatus.AUTHORIZED)


def test_any_other_valid_card_number_approves(gateway):
    token = server.tokenize_card(
        number="4111 1111 1111 1111", exp_month=1, exp_year=2099, cvc="1234"
    )
    result = gateway_authorize(gateway, token)
    assert (result.status, result.card_last4) == (ResultStatus.AUTHORIZED, "1111")


def test_an_unknown_or_forged_token_is_declined(gateway):
    forged = card_token(DECLINE_CARD)[:-3] + "abc"
    assert gateway_authorize(gateway, forged, key="a").decline_code == "invalid_token"
    assert gateway_authorize(gateway, "tok_nonsense", key="b").decline_code == "invalid_token"
    assert (
        gateway_authorize(gateway, "paypal:PAYID_missing", key="c").decline_code == "invalid_token"
    )


def test_an_idempotency_key_returns_the_first_result(gateway):
    first = gateway_authorize(gateway, card_token(APPROVE_CARD), key="same", amount=5_000)
    again = gateway_authorize(gateway, card_token(DECLINE_CARD), key="same", amount=9_000)
    assert again == first
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1


def test_capture_and_void_idempotency_keys_return_the_first_result(gateway):
    authorized = gateway_authorize(gateway, card_token())
    capture = gateway.capture(
        reference=authorized.reference, amount=5_000, currency="USD", idempotency_key="cap-1"
    )
    repeat = gateway.capture(
        reference=authorized.reference, amount=5_000, currency="USD", idempotency_key="cap-1"
    )
    assert capture.status == ResultStatus.CAPTURED
    assert repeat == capture
    assert SandboxTransaction.objects.filter(kind="capture").count() == 1
    other = gateway_authorize(gateway, card_token(), key="key-2")
    void = gateway.void(reference=other.reference, idempotency_key="void-1")
    assert void.status == ResultStatus.VOIDED
    assert gateway.void(reference=other.reference, idempotency_key="void-1") == void
    assert SandboxTransaction.objects.filter(kind="void").count() == 1


def test_a_capture_beyond_the_authorized_amount_or_of_a_voided_hold_is_declined(gateway):
    authorized = gateway_authorize(gateway, card_token(), amount=5_000)
    too_much = gateway.capture(
        reference=authorized.reference, amount=5_001, currency="USD", idempotency_key="c1"
    )
    assert (too_much.status, too_much.decline_code) == (
        ResultStatus.DECLINED,
        "authorization_not_capturable",
    )
    gateway.void(reference=authorized.reference, idempotency_key="v1")
    after_void = gateway.capture(
        reference=authorized.reference, amount=5_000, currency="USD", idempotency_key="c2"
    )
    assert after_void.status == ResultStatus.DECLINED
    assert SandboxTransaction.objects.get(reference=authorized.reference).status == "voided"


def test_a_captured_hold_cannot_be_voided(gateway):
    authorized = gateway_authorize(gateway, card_token())
    gateway.capture(
        reference=authorized.reference, amount=5_000, currency="USD", idempotency_key="c"
    )
    refused = gateway.void(reference=authorized.reference, idempotency_key="v")
    assert (refused.status, refused.decline_code) == (
        ResultStatus.DECLINED,
        "authorization_not_voidable",
    )


def test_fetch_tells_what_became_of_a_key(gateway):
    assert gateway.fetch(idempotency_key="never-sent").status == ResultStatus.NOT_FOUND
    made = gateway_authorize(gateway, card_token(), key="k")
    assert gateway.fetch(idempotency_key="k") == made


def test_paypal_approval_then_authorize_with_the_paypal_token(gateway):
    order = make_order(payment_method="paypal", total=4_200)
    token, approval_url = gateway.approval_start(
        amount=4_200, currency="USD", return_url="/pay/abc"
    )
    reference = token.removeprefix("paypal:")
    assert approval_url == f"/sandbox/paypal/{reference}/"
    server.paypal_order_decide(reference=reference, approve=True, payer_email="payer@example.com")
    authorization = authorization_request(
        order=order, payment_token=token, method="paypal", source=AuthorizationSource.CUSTOMER_LINK
    )
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert authorization.payer_email == "payer@example.com"
    assert authorization.instrument == "PayPal payer@example.com"
    assert order.payment_state == PaymentState.AUTHORIZED
    ledger = SandboxTransaction.objects.get(reference=authorization.gateway_reference)
    assert (ledger.parent_reference, ledger.amount) == (reference, 4_200)


def test_paypal_authorization_before_approval_or_after_cancel_is_declined(gateway):
    token, _ = gateway.approval_start(amount=4_200, currency="USD", return_url="/")
    waiting = gateway_authorize(gateway, token, key="p1")
    assert (waiting.status, waiting.decline_code) == (
        ResultStatus.DECLINED,
        "payer_action_required",
    )
    reference = token.removeprefix("paypal:")
    server.paypal_order_decide(reference=reference, approve=False, payer_email="x@example.com")
    # A decision is final: approving afterwards changes nothing.
    server.paypal_order_decide(reference=reference, approve=True, payer_email="x@example.com")
    cancelled = gateway_authorize(gateway, token, key="p2")
    assert cancelled.decline_code == "payer_action_required"
    assert SandboxTransaction.objects.get(reference=reference).status == "cancelled"


def test_the_paypal_approval_page_approves_and_returns_to_the_shop(client, gateway):
    token, approval_url = gateway.approval_start(
        amount=4_200, currency="USD", return_url="/pay/abc?step=2"
    )
    reference = token.removeprefix("paypal:")
    assert client.get(approval_url).status_code == 200
    response = client.post(
        approval_url, {"decision": "approve", "payer_email": "buyer@example.com"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/pay/abc?step=2&paypal=approved&token={reference}"
    assert SandboxTransaction.objects.get(reference=reference).payer_email == "buyer@example.com"


def test_the_paypal_approval_page_never_redirects_off_site(client, gateway):
    _, approval_url = gateway.approval_start(
        amount=100, currency="USD", return_url="https://evil.example.net/steal"
    )
    response = client.post(approval_url, {"decision": "cancel"})
    assert response["Location"].startswith("/?paypal=cancelled")


def test_an_unknown_paypal_order_page_is_not_found(client):
    assert client.get("/sandbox/paypal/PAYID_nope/").status_code == 404


# --- a remote gateway: its ledger commits on its own, whatever orderdesk's transaction does -


class RolledBack(Exception):
    pass


def ledger_status(reference):
    return SandboxTransaction.objects.get(reference=reference).status


def test_the_ledger_is_written_on_its_own_connection():
    from django.db import router

    assert router.db_for_write(SandboxTransaction) == "sandbox"
    assert router.db_for_read(SandboxTransaction) == "sandbox"


@pytest.mark.parametrize("operation", ["authorize", "capture", "void"])
def test_what_the_gateway_did_survives_a_rollback_of_orderdesk(gateway, operation):
    from django.db import transaction

    held = gateway_authorize(gateway, card_token(), key="held")
    with pytest.raises(RolledBack), transaction.atomic():
        if operation == "authorize":
            result = gateway_authorize(gateway, card_token(), key="rolled-back")
        elif operation == "capture":
            result = gateway.capture(
                reference=held.reference, amount=5_000, currency="USD", idempotency_key="c"
            )
        else:
            result = gateway.void(reference=held.reference, idempotency_key="v")
        raise RolledBack
    assert ledger_status(result.reference) == result.status
    expected_hold = {"authorize": "authorized", "capture": "captured", "void": "voided"}
    assert ledger_status(held.reference) == expected_hold[operation]


@pytest.mark.parametrize("operation", ["authorize", "capture", "void"])
def test_a_timeout_after_acting_loses_the_answer_but_not_the_act(gateway, operation):
    from orderdesk.payments.gateways.base import GatewayTimeout
    from orderdesk.payments.gateways.sandbox import inject_faults

    held = gateway_authorize(gateway, card_token(), key="held")
    calls = {
        "authorize": lambda: gateway_authorize(gateway, card_token(), key="lost"),
        "capture": lambda: gateway.capture(
            reference=held.reference, amount=5_000, currency="USD", idempotency_key="lost"
        ),
        "void": lambda: gateway.void(reference=held.reference, idempotency_key="lost"),
    }
    with inject_faults("timeout", operation=operation), pytest.raises(GatewayTimeout):
        calls[operation]()
    # Asked again with the same key, the gateway answers what it did the first time.
    repeated = calls[operation]()
    kind = {"authorize": "authorization", "capture": "capture", "void": "void"}[operation]
    assert SandboxTransaction.objects.filter(kind=kind, idempotency_key="lost").count() == 1
    assert (
        repeated.status
        == {"authorize": "authorized", "capture": "captured", "void": "voided"}[operation]
    )


@pytest.mark.parametrize("operation", ["authorize", "capture", "void"])
def test_a_5xx_comes_before_the_gateway_acts(gateway, operation):
    from orderdesk.payments.gateways.base import GatewayUnavailable
    from orderdesk.payments.gateways.sandbox import inject_faults

    held = gateway_authorize(gateway, card_token(), key="held")
    calls = {
        "authorize": lambda: gateway_authorize(gateway, card_token(), key="refused"),
        "capture": lambda: gateway.capture(
            reference=held.reference, amount=5_000, currency="USD", idempotency_key="refused"
        ),
        "void": lambda: gateway.void(reference=held.reference, idempotency_key="refused"),
    }
    with inject_faults("server_error", operation=operation), pytest.raises(GatewayUnavailable):
        calls[operation]()
    assert not SandboxTransaction.objects.filter(idempotency_key="refused").exists()
    assert ledger_status(held.reference) == "authorized"


def test_a_fault_aimed_at_one_operation_leaves_the_others_alone(gateway):
    from orderdesk.payments.gateways.base import GatewayTimeout
    from orderdesk.payments.gateways.sandbox import inject_faults

    with inject_faults("timeout", operation="capture"):
        held = gateway_authorize(gateway, card_token(), key="held")
        assert held.status == ResultStatus.AUTHORIZED
        with pytest.raises(GatewayTimeout):
            gateway.capture(
                reference=held.reference, amount=5_000, currency="USD", idempotency_key="c"
            )


def test_fetch_meets_its_own_faults_and_then_answers(gateway):
    from orderdesk.payments.gateways.base import GatewayTimeout, GatewayUnavailable
    from orderdesk.payments.gateways.sandbox import inject_faults

    gateway_authorize(gateway, card_token(), key="held")
    with inject_faults("server_error", "timeout", operation="fetch"):
        with pytest.raises(GatewayUnavailable):
            gateway.fetch(idempotency_key="held")
        with pytest.raises(GatewayTimeout):
            gateway.fetch(idempotency_key="held")
        assert gateway.fetch(idempotency_key="held").status == ResultStatus.AUTHORIZED


def test_latency_and_fault_rates_are_set_per_operation(gateway, settings):
    import time

    from orderdesk.payments.gateways.base import GatewayUnavailable

    settings.ORDERDESK_SANDBOX = {
        **settings.ORDERDESK_SANDBOX,
        "operations": {"capture": {"latency_ms": 300}, "void": {"server_error_rate": 1.0}},
    }
    started = time.monotonic()
    held = gateway_authorize(gateway, card_token(), key="held")
    assert time.monotonic() - started < 0.25
    started = time.monotonic()
    gateway.capture(reference=held.reference, amount=1_000, currency="USD", idempotency_key="c")
    assert time.monotonic() - started >= 0.3
    with pytest.raises(GatewayUnavailable):
        gateway.void(reference=held.reference, idempotency_key="v")
