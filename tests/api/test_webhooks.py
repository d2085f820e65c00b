"""Gateway webhooks: each kind of event changes the right authorization once; forged,
replayed and stale requests are refused and change nothing."""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from orderdesk.common.clock import now
from orderdesk.orders.models import EventKind, OrderEvent, PaymentState
from orderdesk.payments.gateways.events import standard_webhook_signature
from orderdesk.payments.models import (
    AuthorizationSource,
    AuthorizationStatus,
    Capture,
    GatewayEvent,
)
from orderdesk.payments.services import authorization_request
from tests.contract.fakes.paypal_api import CLIENT_ID, CLIENT_SECRET, FakePayPal
from tests.contract.fakes.stripe_api import SECRET_KEY, FakeStripe
from tests.factories import authorize, make_order

pytestmark = pytest.mark.django_db

SANDBOX_SECRET = "whsec_" + base64.b64encode(b"sandbox-webhook-secret-32-bytes!").decode()
STRIPE_SECRET = "whsec_fake_stripe_endpoint_secret"
PAYPAL_WEBHOOK_ID = "WH-FAKE-0001"


def post(gateway, body: bytes, headers: dict):
    return Client().post(
        f"/api/webhooks/{gateway}", data=body, content_type="application/json", headers=headers
    )


def snapshot(authorization):
    authorization.refresh_from_db()
    order = authorization.order
    order.refresh_from_db()
    return (
        authorization.status,
        authorization.expires_at,
        order.payment_state,
        order.events.count(),
        Capture.objects.filter(authorization=authorization).count(),
    )


# -- the sandbox (Standard Webhooks) ------------------------------------------------------


@pytest.fixture
def sandbox(settings):
    settings.ORDERDESK_GATEWAY = "sandbox"
    settings.ORDERDESK_SANDBOX_WEBHOOK_SECRET = SANDBOX_SECRET


def sandbox_send(kind, data, *, message_id=None, timestamp=None, secret=SANDBOX_SECRET):
    message_id = message_id or f"msg_{secrets.token_hex(8)}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    body = json.dumps({"type": kind, "data": data}).encode()
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhook_signature(secret, message_id, timestamp, body),
    }
    return post("sandbox", body, headers)


@pytest.mark.parametrize(
    ("kind", "status", "state", "timeline"),
    [
        (
            "authorization.voided",
            "voided",
            PaymentState.UNAUTHORIZED,
            EventKind.AUTHORIZATION_VOIDED,
        ),
        ("authorization.expired", "expired", PaymentState.EXPIRED, EventKind.AUTHORIZATION_EXPIRED),
        ("authorization.captured", "captured", PaymentState.PAID, EventKind.CAPTURED),
    ],
)
def test_a_sandbox_event_ends_the_hold_on_the_authorization_state_and_timeline(
    sandbox, kind, status, state, timeline
):
    authorization = authorize(make_order(total=7_000))

    answer = sandbox_send(kind, {"reference": authorization.gateway_reference, "amount": 7_000})

    assert answer.status_code == 200, answer.content
    authorization.refresh_from_db()
    authorization.order.refresh_from_db()
    assert authorization.status == status
    assert authorization.order.payment_state == state
    assert authorization.order.events.filter(kind=timeline).count() == 1
    assert authorization.order.last_action.endswith("at sandbox")


def test_a_sandbox_reauthorization_moves_the_expiry_later(sandbox):
    authorization = authorize(make_order(total=7_000))
    later = (authorization.expires_at + timedelta(days=10)).replace(microsecond=0)

    answer = sandbox_send(
        "authorization.reauthorized",
        {"reference": authorization.gateway_reference, "expires_at": int(later.timestamp())},
    )

    assert answer.status_code == 200
    authorization.refresh_from_db()
    authorization.order.refresh_from_db()
    assert authorization.expires_at == later
    assert authorization.order.payment_expires_at == later


def test_the_same_event_delivered_twice_changes_the_authorization_once(sandbox):
    authorization = authorize(make_order(total=7_000))
    data = {"reference": authorization.gateway_reference, "amount": 7_000}
    sandbox_send("authorization.captured", data, message_id="msg_once")
    after_first = snapshot(authorization)

    again = sandbox_send("authorization.captured", data, message_id="msg_once")

    assert again.status_code == 200
    assert snapshot(authorization) == after_first
    assert GatewayEvent.objects.filter(event_id="msg_once").count() == 1


@pytest.mark.parametrize(
    "tamper",
    ["forged", "stale", "future", "unsigned"],
)
def test_a_forged_or_stale_sandbox_request_is_refused_logged_and_changes_nothing(
    sandbox, tamper, caplog
):
    authorization = authorize(make_order(total=7_000))
    before = snapshot(authorization)
    data = {"reference": authorization.gateway_reference}
    caplog.set_level(logging.WARNING, logger="orderdesk.webhooks")
    if tamper == "forged":
        forged = "whsec_" + base64.b64encode(b"x" * 32).decode()
        answer = sandbox_send("authorization.voided", data, secret=forged)
    elif tamper == "unsigned":
        answer = post(
            "sandbox", json.dumps({"type": "authorization.voided", "data": data}).encode(), {}
        )
    else:
        shift = -3600 if tamper == "stale" else 3600
        answer = sandbox_send("authorization.voided", data, timestamp=int(time.time()) + shift)

    assert answer.status_code == 400
    assert answer.json()["detail"][0]["field"] == "signature"
    assert snapshot(authorization) == before
    assert not GatewayEvent.objects.exists()
    assert "webhook refused: gateway=sandbox" in caplog.text


def test_a_webhook_for_a_gateway_not_configured_is_refused(sandbox):
    answer = post("stripe", b"{}", {"Stripe-Signature": "t=1,v1=00"})
    assert answer.status_code == 400
    assert not GatewayEvent.objects.exists()


def test_an_event_for_a_hold_orderdesk_does_not_know_changes_nothing(sandbox):
    authorization = authorize(make_order(total=7_000))
    before = snapshot(authorization)

    answer = sandbox_send("authorization.voided", {"reference": "sbx_auth_nobody"})

    assert (answer.status_code, answer.json()["outcome"]) == (200, "unknown_reference")
    assert snapshot(authorization) == before


# -- Stripe (Stripe-Signature, through the stripe library) --------------------------------


@pytest.fixture
def stripe_fake(settings):
    server = FakeStripe().start()
    settings.ORDERDESK_GATEWAY = "stripe"
    settings.ORDERDESK_STRIPE_SECRET_KEY = SECRET_KEY
    settings.ORDERDESK_STRIPE_API_BASE = server.url
    settings.ORDERDESK_STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    settings.ORDERDESK_AUTHORIZATION_POLICIES = "stripe:card=29"
    yield server
    server.stop()


def stripe_authorize(total=9_000):
    return authorization_request(
        order=make_order(total=total),
        payment_token="pm_card_visa",
        method="card",
        source=AuthorizationSource.STOREFRONT,
    )


def stripe_send(kind, intent, *, event_id=None, timestamp=None, secret=STRIPE_SECRET, **extra):
    """An event signed as Stripe documents: t=<time>,v1=HMAC-SHA256(secret, "<time>.<body>")."""
    event = {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": kind,
        "data": {"object": intent},
        **extra,
    }
    body = json.dumps(event).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={timestamp},v1={signature.hexdigest()}"}
    return post("stripe", body, headers)


@pytest.mark.parametrize(
    ("kind", "intent", "status", "state"),
    [
        (
            "payment_intent.canceled",
            {"status": "canceled", "cancellation_reason": "requested_by_customer"},
            "voided",
            PaymentState.UNAUTHORIZED,
        ),
        (
            "payment_intent.canceled",
            {"status": "canceled", "cancellation_reason": "automatic"},
            "expired",
            PaymentState.EXPIRED,
        ),
        (
            "payment_intent.succeeded",
            {"status": "succeeded", "amount_received": 9_000, "currency": "usd"},
            "captured",
            PaymentState.PAID,
        ),
    ],
)
def test_a_stripe_event_ends_the_hold_it_names(stripe_fake, kind, intent, status, state):
    authorization = stripe_authorize()
    other = stripe_authorize()

    answer = stripe_send(
        kind, {"id": authorization.gateway_reference, "object": "payment_intent", **intent}
    )

    assert answer.status_code == 200, answer.content
    authorization.refresh_from_db()
    authorization.order.refresh_from_db()
    assert (authorization.status, authorization.order.payment_state) == (status, state)
    other.refresh_from_db()
    assert other.status == AuthorizationStatus.AUTHORIZED


def test_a_replayed_stripe_event_changes_nothing_the_second_time(stripe_fake):
    authorization = stripe_authorize()
    intent = {
        "id": authorization.gateway_reference,
        "status": "succeeded",
        "amount_received": 9_000,
        "currency": "usd",
    }
    stripe_send("payment_intent.succeeded", intent, event_id="evt_replayed")
    after_first = snapshot(authorization)

    assert (
        stripe_send("payment_intent.succeeded", intent, event_id="evt_replayed").status_code == 200
    )
    assert snapshot(authorization) == after_first
    assert Capture.objects.filter(authorization=authorization).count() == 1


@pytest.mark.parametrize("tamper", ["forged", "stale"])
def test_a_forged_or_stale_stripe_event_is_refused_and_changes_nothing(stripe_fake, tamper):
    authorization = stripe_authorize()
    before = snapshot(authorization)
    intent = {"id": authorization.gateway_reference, "status": "canceled"}
    if tamper == "forged":
        answer = stripe_send("payment_intent.canceled", intent, secret="whsec_someone_else")
    else:
        answer = stripe_send("payment_intent.canceled", intent, timestamp=int(time.time()) - 301)

    assert answer.status_code == 400
    assert snapshot(authorization) == before
    assert not GatewayEvent.objects.exists()


def test_a_stripe_event_for_another_account_is_refused(stripe_fake, settings):
    settings.ORDERDESK_STRIPE_ACCOUNT = "acct_ours"
    authorization = stripe_authorize()
    before = snapshot(authorization)

    intent = {"id": authorization.gateway_reference}

    answer = stripe_send("payment_intent.canceled", intent, account="acct_someone_else")

    assert answer.status_code == 400
    assert snapshot(authorization) == before
    assert stripe_send("payment_intent.canceled", intent, account="acct_ours").status_code == 200


# -- PayPal (verify-webhook-signature) ----------------------------------------------------


@pytest.fixture
def paypal_fake(settings):
    server = FakePayPal().start()
    settings.ORDERDESK_GATEWAY = "paypal"
    settings.ORDERDESK_PAYPAL_CLIENT_ID = CLIENT_ID
    settings.ORDERDESK_PAYPAL_CLIENT_SECRET = CLIENT_SECRET
    settings.ORDERDESK_PAYPAL_API_BASE = server.url
    settings.ORDERDESK_PAYPAL_WEBHOOK_ID = PAYPAL_WEBHOOK_ID
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    yield server
    server.stop()


def paypal_authorize(fake, total=6_000):
    from orderdesk.payments.gateways import get_gateway

    order = make_order(total=total, payment_method="paypal")
    token, _ = get_gateway("paypal").approval_start(
        amount=total, currency="USD", return_url="http://shop.example/pay/t"
    )
    fake.approve(token.removeprefix("paypal:"))
    return authorization_request(
        order=order, payment_token=token, method="paypal", source=AuthorizationSource.STOREFRONT
    )


def paypal_send(fake, kind, resource, *, event_id=None, webhook_id=PAYPAL_WEBHOOK_ID, sent=None):
    event = {
        "id": event_id or f"WH-{secrets.token_hex(8)}",
        "event_type": kind,
        "resource": resource,
    }
    headers = fake.webhook_headers(event, webhook_id, sent=sent)
    return post("paypal", json.dumps(event).encode(), headers)


@pytest.mark.parametrize(
    ("kind", "resource", "status", "state"),
    [
        ("PAYMENT.AUTHORIZATION.VOIDED", {"status": "VOIDED"}, "voided", PaymentState.UNAUTHORIZED),
        ("PAYMENT.AUTHORIZATION.VOIDED", {"status": "EXPIRED"}, "expired", PaymentState.EXPIRED),
        ("PAYMENT.CAPTURE.COMPLETED", {"status": "COMPLETED"}, "captured", PaymentState.PAID),
    ],
)
def test_a_paypal_event_ends_the_hold_it_names(paypal_fake, kind, resource, status, state):
    authorization = paypal_authorize(paypal_fake)
    reference = authorization.gateway_reference
    if kind == "PAYMENT.CAPTURE.COMPLETED":
        resource = {
            **resource,
            "id": "CAPTURE1",
            "amount": {"currency_code": "USD", "value": "60.00"},
            "supplementary_data": {"related_ids": {"authorization_id": reference}},
        }
    else:
        resource = {**resource, "id": reference}

    answer = paypal_send(paypal_fake, kind, resource)

    assert answer.status_code == 200, answer.content
    authorization.refresh_from_db()
    authorization.order.refresh_from_db()
    assert (authorization.status, authorization.order.payment_state) == (status, state)


@pytest.mark.parametrize("tamper", ["forged", "other_webhook", "stale"])
def test_a_paypal_transmission_paypal_does_not_verify_changes_nothing(paypal_fake, tamper):
    authorization = paypal_authorize(paypal_fake)
    before = snapshot(authorization)
    resource = {"id": authorization.gateway_reference, "status": "VOIDED"}
    kind = "PAYMENT.AUTHORIZATION.VOIDED"
    if tamper == "forged":
        event = {"id": "WH-forged", "event_type": kind, "resource": resource}
        headers = paypal_fake.webhook_headers({**event, "id": "WH-other"}, PAYPAL_WEBHOOK_ID)
        answer = post("paypal", json.dumps(event).encode(), headers)
    elif tamper == "other_webhook":
        answer = paypal_send(paypal_fake, kind, resource, webhook_id="WH-SOMEONE-ELSE")
    else:
        answer = paypal_send(paypal_fake, kind, resource, sent=now() - timedelta(hours=1))

    assert answer.status_code == 400
    assert snapshot(authorization) == before
    assert not GatewayEvent.objects.exists()


def test_a_replayed_paypal_event_changes_nothing_the_second_time(paypal_fake):
    authorization = paypal_authorize(paypal_fake)
    resource = {"id": authorization.gateway_reference, "status": "VOIDED"}
    paypal_send(paypal_fake, "PAYMENT.AUTHORIZATION.VOIDED", resource, event_id="WH-1")
    after_first = snapshot(authorization)

    paypal_send(paypal_fake, "PAYMENT.AUTHORIZATION.VOIDED", resource, event_id="WH-1")

    assert snapshot(authorization) == after_first
    assert OrderEvent.objects.filter(kind=EventKind.AUTHORIZATION_VOIDED).count() == 1


# -- reauthorizations at Stripe and PayPal -------------------------------------------------


def renewal_snapshot(authorization):
    authorization.refresh_from_db()
    order = authorization.order
    order.refresh_from_db()
    return (
        authorization.gateway_reference,
        authorization.amount,
        authorization.expires_at,
        order.payment_expires_at,
        order.authorized_amount,
        order.events.count(),
    )


def stripe_hold_extended(fake, authorization, *, days: int, amount: int | None = None):
    """What Stripe holds after an extended (or incremental) authorization of the intent."""
    intent = fake.intents[authorization.gateway_reference]
    card = fake.charges[intent["latest_charge"]]["payment_method_details"]["card"]
    card["capture_before"] = int((authorization.expires_at + timedelta(days=days)).timestamp())
    if amount:
        intent.update(amount=amount, amount_capturable=amount)
    return intent, datetime.fromtimestamp(card["capture_before"], tz=timezone.utc)


def test_a_stripe_hold_extended_at_stripe_records_the_new_expiry_and_amount_once(stripe_fake):
    authorization = stripe_authorize(total=9_000)
    intent, later = stripe_hold_extended(stripe_fake, authorization, days=20, amount=9_500)
    body = {"id": intent["id"], "object": "payment_intent", "amount_capturable": 9_500}

    answer = stripe_send("payment_intent.amount_capturable_updated", body, event_id="evt_ext")

    assert (answer.status_code, answer.json()["outcome"]) == (200, "applied")
    authorization.refresh_from_db()
    order = authorization.order
    order.refresh_from_db()
    assert (authorization.expires_at, authorization.amount) == (later, 9_500)
    assert (order.payment_expires_at, order.payment_state) == (later, PaymentState.AUTHORIZED)
    renewed = order.events.get(kind=EventKind.AUTHORIZATION_MADE, message__contains="renewed")
    assert renewed.message.startswith("Authorization renewed at stripe")
    after = renewal_snapshot(authorization)
    replay = stripe_send("payment_intent.amount_capturable_updated", body, event_id="evt_ext")
    assert replay.status_code == 200
    assert renewal_snapshot(authorization) == after


def test_a_stripe_capturable_event_for_a_hold_that_did_not_change_changes_nothing(stripe_fake):
    authorization = stripe_authorize()
    before = renewal_snapshot(authorization)
    body = {"id": authorization.gateway_reference, "object": "payment_intent"}

    answer = stripe_send("payment_intent.amount_capturable_updated", body)

    assert (answer.status_code, answer.json()["outcome"]) == (200, "no_change")
    assert renewal_snapshot(authorization) == before


def test_a_stripe_renewal_stripe_cannot_confirm_now_is_asked_again_and_changes_nothing(
    stripe_fake,
):
    authorization = stripe_authorize()
    stripe_hold_extended(stripe_fake, authorization, days=20)
    before = renewal_snapshot(authorization)
    stripe_fake.inject("unavailable", path="/v1/payment_intents/", times=5)
    body = {"id": authorization.gateway_reference, "object": "payment_intent"}

    answer = stripe_send("payment_intent.amount_capturable_updated", body, event_id="evt_later")

    assert answer.status_code == 503
    assert renewal_snapshot(authorization) == before
    assert not GatewayEvent.objects.exists()


@pytest.mark.parametrize("tamper", ["forged", "stale"])
def test_a_forged_or_stale_stripe_renewal_changes_nothing(stripe_fake, tamper):
    authorization = stripe_authorize()
    intent, _ = stripe_hold_extended(stripe_fake, authorization, days=20)
    before = renewal_snapshot(authorization)
    body = {"id": intent["id"], "object": "payment_intent"}
    if tamper == "forged":
        answer = stripe_send("payment_intent.amount_capturable_updated", body, secret="whsec_x")
    else:
        answer = stripe_send(
            "payment_intent.amount_capturable_updated", body, timestamp=int(time.time()) - 301
        )

    assert answer.status_code == 400
    assert renewal_snapshot(authorization) == before
    assert not GatewayEvent.objects.exists()


def paypal_reauthorized(fake, authorization, amount="65.00") -> dict:
    """Reauthorize at (fake) PayPal after the honor period: the new authorization's resource."""
    from orderdesk.payments.gateways import get_gateway

    fake.offset = timedelta(days=4)
    result = get_gateway("paypal").reauthorize(
        reference=authorization.gateway_reference,
        amount=int(amount.replace(".", "")),
        currency="USD",
        idempotency_key="reauth-test-1",
    )
    fake.offset = timedelta(0)  # the webhook is sent now, as PayPal would
    resource = dict(fake.authorizations[result.reference])
    resource.pop("reauthorized")
    return resource


def test_a_paypal_reauthorization_moves_the_hold_to_the_new_authorization_once(paypal_fake):
    authorization = paypal_authorize(paypal_fake, total=6_000)
    resource = paypal_reauthorized(paypal_fake, authorization, amount="65.00")
    expires = datetime.fromisoformat(resource["expiration_time"].replace("Z", "+00:00"))

    answer = paypal_send(paypal_fake, "PAYMENT.AUTHORIZATION.CREATED", resource, event_id="WH-R")

    assert (answer.status_code, answer.json()["outcome"]) == (200, "applied")
    authorization.refresh_from_db()
    authorization.order.refresh_from_db()
    assert authorization.gateway_reference == resource["id"]
    assert (authorization.amount, authorization.expires_at) == (6_500, expires)
    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert authorization.order.payment_state == PaymentState.AUTHORIZED
    assert authorization.order.last_action.startswith("Authorization renewed at paypal")
    after = renewal_snapshot(authorization)
    paypal_send(paypal_fake, "PAYMENT.AUTHORIZATION.CREATED", resource, event_id="WH-R")
    assert renewal_snapshot(authorization) == after
    assert GatewayEvent.objects.filter(event_id="WH-R").count() == 1


def test_a_paypal_reauthorization_later_than_the_hold_moves_its_expiry(paypal_fake):
    authorization = paypal_authorize(paypal_fake)
    resource = paypal_reauthorized(paypal_fake, authorization, amount="60.00")
    later = (authorization.expires_at + timedelta(days=3)).replace(microsecond=0)
    resource["expiration_time"] = later.isoformat().replace("+00:00", "Z")

    paypal_send(paypal_fake, "PAYMENT.AUTHORIZATION.CREATED", resource)

    authorization.refresh_from_db()
    authorization.order.refresh_from_db()
    assert authorization.expires_at == authorization.order.payment_expires_at == later


def test_the_paypal_creation_event_of_a_hold_orderdesk_made_changes_nothing(paypal_fake):
    authorization = paypal_authorize(paypal_fake)
    before = renewal_snapshot(authorization)
    resource = dict(paypal_fake.authorizations[authorization.gateway_reference])
    resource.pop("reauthorized")

    answer = paypal_send(paypal_fake, "PAYMENT.AUTHORIZATION.CREATED", resource)

    assert (answer.status_code, answer.json()["outcome"]) == (200, "no_change")
    assert renewal_snapshot(authorization) == before


def test_a_paypal_reauthorization_of_a_hold_orderdesk_does_not_know_changes_nothing(
    paypal_fake,
):
    authorization = paypal_authorize(paypal_fake)
    before = renewal_snapshot(authorization)
    resource = {
        "id": "NEWAUTH00000000001",
        "status": "CREATED",
        "amount": {"currency_code": "USD", "value": "60.00"},
        "expiration_time": "2031-01-01T00:00:00Z",
        "supplementary_data": {"related_ids": {"order_id": "SOMEONEELSE0001"}},
    }

    answer = paypal_send(paypal_fake, "PAYMENT.AUTHORIZATION.CREATED", resource)

    assert (answer.status_code, answer.json()["outcome"]) == (200, "unknown_reference")
    assert renewal_snapshot(authorization) == before


@pytest.mark.parametrize("tamper", ["forged", "stale"])
def test_a_forged_or_stale_paypal_reauthorization_changes_nothing(paypal_fake, tamper):
    authorization = paypal_authorize(paypal_fake)
    resource = paypal_reauthorized(paypal_fake, authorization)
    before = renewal_snapshot(authorization)
    kind = "PAYMENT.AUTHORIZATION.CREATED"
    if tamper == "forged":
        event = {"id": "WH-forged", "event_type": kind, "resource": resource}
        headers = paypal_fake.webhook_headers({**event, "id": "WH-other"}, PAYPAL_WEBHOOK_ID)
        answer = post("paypal", json.dumps(event).encode(), headers)
    else:
        answer = paypal_send(paypal_fake, kind, resource, sent=now() - timedelta(hours=1))

    assert answer.status_code == 400
    assert renewal_snapshot(authorization) == before
    assert not GatewayEvent.objects.exists()


# -- what the schemathesis run leaves out: generated requests to the webhooks ------------


@given(
    body=st.binary(max_size=300),
    headers=st.dictionaries(
        st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    ),
)
@examples(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_generated_sandbox_request_is_refused_with_a_reason_never_a_server_error(body, headers):
    from django.test import override_settings

    with override_settings(
        ORDERDESK_GATEWAY="sandbox", ORDERDESK_SANDBOX_WEBHOOK_SECRET=SANDBOX_SECRET
    ):
        answer = post("sandbox", body, headers)
    assert answer.status_code == 400
    assert answer.json()["detail"][0]["reason"]
    assert not GatewayEvent.objects.exists()


@given(body=st.one_of(st.binary(max_size=200), st.just(b'"a string"'), st.just(b"[1, 2]")))
@examples(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_signed_sandbox_request_with_a_body_that_is_no_event_changes_nothing(body):
    from django.test import override_settings

    message_id, timestamp = f"msg_{secrets.token_hex(8)}", int(time.time())
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhook_signature(
            SANDBOX_SECRET, message_id, timestamp, body
        ),
    }
    with override_settings(
        ORDERDESK_GATEWAY="sandbox", ORDERDESK_SANDBOX_WEBHOOK_SECRET=SANDBOX_SECRET
    ):
        answer = post("sandbox", body, headers)
    assert answer.status_code in (200, 400), answer.content
    assert not Capture.objects.exists()
    if answer.status_code == 200:  # a JSON object of no kind orderdesk acts on
        assert answer.json()["outcome"] in ("ignored", "unknown_reference")
