"""A web process killed during a gateway call leaves a `pending` authorization: once it is
older than the gateway's budget it is reconciled like an unknown one, and the order can be
paid again."""

from datetime import timedelta

import pytest
import time_machine

from orderdesk.common.clock import now
from orderdesk.orders.models import PaymentState
from orderdesk.payments.errors import AuthorizationInProgress
from orderdesk.payments.gateways import get_gateway
from orderdesk.payments.gateways.transport import budget_seconds
from orderdesk.payments.models import AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import authorizations_reconcile_unknown
from orderdesk.payments.services.authorization import _authorization_begin
from tests.factories import authorize, card_token, make_order

pytestmark = pytest.mark.django_db


def pending_left_by_a_killed_process(order, *, gateway_acted: bool):
    """What a request leaves when its process dies between recording the step and
    recording the answer: the pending row, and at the gateway whatever it did."""
    gateway = get_gateway()
    authorization = _authorization_begin(
        order=order,
        amount=None,
        method="card",
        source=AuthorizationSource.STOREFRONT,
        actor=None,
        gateway=gateway.name,
    )
    if gateway_acted:
        gateway.authorize(
            amount=authorization.amount,
            currency=authorization.currency,
            payment_token=card_token(),
            idempotency_key=authorization.idempotency_key,
            order_reference=order.number,
        )
    return authorization


def after_the_budget():
    return now() + timedelta(seconds=budget_seconds() + 120)


def test_a_pending_authorization_within_the_budget_is_left_to_its_caller():
    order = make_order()
    authorization = pending_left_by_a_killed_process(order, gateway_acted=True)
    authorizations_reconcile_unknown(older_than_seconds=0)
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.PENDING


def test_a_pending_authorization_older_than_the_gateway_budget_is_reconciled():
    order = make_order()
    authorization = pending_left_by_a_killed_process(order, gateway_acted=True)
    with time_machine.travel(after_the_budget()):
        authorizations_reconcile_unknown()
    authorization.refresh_from_db()
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert order.payment_state == PaymentState.AUTHORIZED


def test_an_abandoned_pending_authorization_the_gateway_never_got_frees_the_order():
    order = make_order()
    authorization = pending_left_by_a_killed_process(order, gateway_acted=False)
    with pytest.raises(AuthorizationInProgress):
        authorize(order)
    with time_machine.travel(after_the_budget()):
        authorizations_reconcile_unknown()
        authorization.refresh_from_db()
        assert authorization.status == AuthorizationStatus.ERROR
        assert authorize(order).status == AuthorizationStatus.AUTHORIZED
