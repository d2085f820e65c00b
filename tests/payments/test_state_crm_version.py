"""The CRM hears of a payment change: the stored state, expiry or amount changing adds one
to the order's CRM version in the same UPDATE; storing the same state again adds nothing."""

from datetime import timedelta

import pytest

from orderdesk.orders.models import Order
from orderdesk.payments.state import payment_state_refresh
from orderdesk.payments.sweep import authorizations_expire
from tests.factories import authorize, make_order

pytestmark = pytest.mark.django_db


def version(order) -> int:
    return Order.objects.values_list("crm_version", flat=True).get(pk=order.pk)


def test_a_new_order_is_one_change_ahead_of_the_crm():
    order = make_order()
    assert Order.objects.values_list("crm_version", "crm_settled_version").get(pk=order.pk) == (
        1,
        0,
    )


def test_storing_the_same_payment_state_again_adds_nothing():
    order = make_order()
    authorize(order)
    before = version(order)

    payment_state_refresh(Order.objects.get(pk=order.pk))
    payment_state_refresh(Order.objects.get(pk=order.pk))

    assert version(order) == before


def test_an_authorization_adds_one_for_its_payment_state_change():
    order = make_order()
    before = version(order)

    authorize(order)

    assert version(order) == before + 1


def test_the_sweep_adds_one_only_to_the_orders_it_moves_to_expired():
    expiring, other = make_order(), make_order()
    authorization = authorize(expiring)
    authorize(other)
    other_authorization = other.authorizations.get()
    Order.objects.filter(pk=other.pk).update(payment_state="awaiting_customer")
    before = version(expiring), version(other)

    moment = max(authorization.expires_at, other_authorization.expires_at)
    authorizations_expire(moment + timedelta(seconds=1))

    assert (version(expiring), version(other)) == (before[0] + 1, before[1])
