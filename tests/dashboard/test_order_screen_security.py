"""The order screen answers "is the payment secured?" from the authorizations it lists, and
that answer is the one the payment selectors give from their own queries."""

from __future__ import annotations

import dataclasses

import pytest

from orderdesk.payments.models import Authorization
from orderdesk.payments.selectors import order_payments, payment_security
from orderdesk.payments.state import amount_paid
from tests.dashboard.scenario import scenario_build

pytestmark = pytest.mark.django_db


def test_the_security_from_the_listed_authorizations_is_the_security_from_queries(csr):
    scenario = scenario_build(csr=csr)
    orders = [getattr(scenario, field.name) for field in dataclasses.fields(scenario)]
    reasons = set()
    for order in orders:
        listed = list(Authorization.objects.filter(order=order))
        from_list = payment_security(order, authorizations=listed)
        assert from_list == payment_security(order), order.number
        reasons.add(from_list.reason)
    # The scenario reaches the answers that read the authorizations.
    assert {"authorized", "the authorization has expired", "no valid authorization"} <= reasons


def test_the_amount_paid_from_the_listed_payments_is_the_amount_paid_from_queries(csr):
    scenario = scenario_build(csr=csr)
    orders = [getattr(scenario, field.name) for field in dataclasses.fields(scenario)]
    paid_orders = 0
    for order in orders:
        payments = order_payments(order)
        assert payments["paid"] == amount_paid(order), order.number
        listed = payment_security(
            order, authorizations=payments["authorizations"], paid=payments["paid"]
        )
        assert listed == payment_security(order), order.number
        paid_orders += payments["paid"] > 0
    # The scenario holds orders with captures or recorded payments, not only unpaid ones.
    assert paid_orders >= 1
