"""Rule 1: an authorization is good for 29 days (or what the gateway or policy says), to the second."""

from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from orderdesk.orders.models import EventKind, PaymentState
from orderdesk.payments.gateways.base import GatewayResult, ResultStatus
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.policy import ValidityPolicy, expiry_for, parse_policies, policy_for
from orderdesk.payments.selectors import payment_security
from orderdesk.payments.services import authorization_settle
from orderdesk.payments.services.authorization import _authorization_begin
from orderdesk.payments.sweep import authorizations_expire
from tests.factories import authorize, make_order

pytestmark = pytest.mark.django_db

AUTHORIZED_AT = datetime(2026, 3, 2, 15, 30, 45, tzinfo=timezone.utc)
ONE_SECOND = timedelta(seconds=1)


@pytest.fixture
def authorized_order():
    with time_machine.travel(AUTHORIZED_AT, tick=False):
        order = make_order(status="ready_to_ship")
        authorization = authorize(order)
    return order, authorization


def test_authorization_expires_29_days_after_it_was_made_by_default(authorized_order):
    _, authorization = authorized_order
    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert authorization.authorized_at == AUTHORIZED_AT
    assert authorization.expires_at == AUTHORIZED_AT + timedelta(days=29)


def test_authorization_is_valid_one_second_before_expiry_and_expired_at_it(authorized_order):
    order, authorization = authorized_order
    expires_at = authorization.expires_at
    assert authorization.is_valid_at(expires_at - ONE_SECOND)
    assert not authorization.is_valid_at(expires_at)
    with time_machine.travel(expires_at - ONE_SECOND, tick=False):
        security = payment_security(order)
        assert (security.secured, security.capturable, security.reason) == (
            True,
            True,
            "authorized",
        )
    with time_machine.travel(expires_at, tick=False):
        security = payment_security(order)
        assert (security.secured, security.capturable, security.reason) == (
            False,
            False,
            "the authorization has expired",
        )


def test_sweep_leaves_an_authorization_one_second_before_expiry_alone(authorized_order):
    order, authorization = authorized_order
    with time_machine.travel(authorization.expires_at - ONE_SECOND, tick=False):
        assert authorizations_expire() == 0
    authorization.refresh_from_db()
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert order.payment_state == PaymentState.AUTHORIZED
    assert not order.events.filter(kind=EventKind.AUTHORIZATION_EXPIRED).exists()


def test_sweep_expires_an_authorization_at_exactly_its_expiry(authorized_order):
    order, authorization = authorized_order
    with time_machine.travel(authorization.expires_at, tick=False):
        assert authorizations_expire() == 1
    authorization.refresh_from_db()
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.EXPIRED
    assert order.payment_state == PaymentState.EXPIRED
    assert order.payment_expires_at == authorization.expires_at
    assert order.authorized_amount == authorization.amount
    event = order.events.get(kind=EventKind.AUTHORIZATION_EXPIRED)
    assert event.created_at == authorization.expires_at


def test_default_validity_is_the_authorization_days_setting(settings):
    settings.ORDERDESK_AUTHORIZATION_POLICIES = ""
    assert policy_for(gateway="sandbox", method="card") == ValidityPolicy(days=29)
    settings.ORDERDESK_AUTHORIZATION_DAYS = 30
    assert policy_for(gateway="sandbox", method="card") == ValidityPolicy(days=30)


def test_policy_per_gateway_method_and_network_picks_the_most_specific(settings):
    settings.ORDERDESK_AUTHORIZATION_POLICIES = (
        "stripe=7, sandbox:card=28, sandbox:card:amex=6, paypal:paypal=29+3"
    )
    assert policy_for(gateway="sandbox", method="card", network="Amex").days == 6
    assert policy_for(gateway="sandbox", method="card", network="Visa").days == 28
    assert policy_for(gateway="stripe", method="card", network="Visa").days == 7
    assert policy_for(gateway="paypal", method="paypal") == ValidityPolicy(29, 3)
    assert policy_for(gateway="sandbox", method="paypal").days == 29


def test_an_honor_period_is_representable_and_does_not_extend_validity(settings):
    settings.ORDERDESK_AUTHORIZATION_POLICIES = "paypal:paypal=29+3"
    policy = policy_for(gateway="paypal", method="paypal")
    assert policy.validity == timedelta(days=29)
    assert policy.honor_period == timedelta(days=3)
    expiry = expiry_for(authorized_at=AUTHORIZED_AT, gateway="paypal", method="paypal")
    assert expiry == AUTHORIZED_AT + timedelta(days=29)


def test_malformed_policy_is_rejected_with_the_offending_item():
    with pytest.raises(ValueError, match="'stripe:card=seven'"):
        parse_policies("paypal:paypal=29, stripe:card=seven")


def test_policy_for_the_card_network_sets_the_stored_expiry(settings):
    settings.ORDERDESK_AUTHORIZATION_POLICIES = "sandbox:card:visa=7"
    with time_machine.travel(AUTHORIZED_AT, tick=False):
        authorization = authorize(make_order())
    assert authorization.card_brand == "Visa"
    assert authorization.expires_at == AUTHORIZED_AT + timedelta(days=7)


def test_gateway_reported_expiry_wins_over_policy_and_default(settings):
    settings.ORDERDESK_AUTHORIZATION_POLICIES = "sandbox:card=28"
    reported = AUTHORIZED_AT + timedelta(days=6, hours=23)
    assert (
        expiry_for(authorized_at=AUTHORIZED_AT, gateway="sandbox", method="card", reported=reported)
        == reported
    )
    with time_machine.travel(AUTHORIZED_AT, tick=False):
        order = make_order()
        pending = _authorization_begin(
            order=order,
            amount=None,
            method="card",
            source="storefront",
            actor=None,
            gateway="sandbox",
        )
        settled = authorization_settle(
            pending,
            GatewayResult(status=ResultStatus.AUTHORIZED, reference="auth_x", expires_at=reported),
        )
    assert settled.expires_at == reported
    order.refresh_from_db()
    assert order.payment_expires_at == reported
    assert Authorization.objects.get(pk=settled.pk).expires_at == reported


def test_the_boundary_holds_to_the_microsecond_in_the_database():
    made_at = AUTHORIZED_AT.replace(microsecond=250_000)
    with time_machine.travel(made_at, tick=False):
        order = make_order()
        authorization = authorize(order)
    expires_at = authorization.expires_at
    assert expires_at == made_at + timedelta(days=29)
    one_microsecond = timedelta(microseconds=1)
    with time_machine.travel(expires_at - one_microsecond, tick=False):
        assert authorizations_expire() == 0
        assert payment_security(order).secured
    with time_machine.travel(expires_at, tick=False):
        assert not payment_security(order).secured
        assert authorizations_expire() == 1
