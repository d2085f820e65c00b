"""An approval whose answer was lost (the gateway acted, the response timed out) is finished
by reconciliation exactly as the customer's request would have finished it."""

import threading

import pytest
from django.db import connections

from orderdesk.common.clock import now
from orderdesk.crm.models import CrmMessage
from orderdesk.links.models import LinkStatus
from orderdesk.links.services import (
    LinkBusy,
    LinkUnavailable,
    Outcome,
    link_checkout,
    link_send_price_increase,
    link_send_reauthorization,
)
from orderdesk.orders.models import CancelReason, EventKind, Order, OrderStatus, PaymentState
from orderdesk.orders.services import LineInput
from orderdesk.payments.gateways.sandbox import inject_faults
from orderdesk.payments.models import LIVE, Authorization, AuthorizationStatus
from orderdesk.payments.services import authorizations_reconcile_unknown, void_steps_deliver
from orderdesk.payments.state import payment_state_compute
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.unpaid.groups import group_conditions
from tests.factories import DECLINE_CARD, authorize, card_token, make_order

pytestmark = pytest.mark.django_db


def pay(link, number="4242424242424242"):
    return link_checkout(link=link, payment_token=card_token(number), method="card")


def pay_with_the_answer_lost(link, number="4242424242424242"):
    with inject_faults("timeout", operation="authorize"):
        assert pay(link, number).outcome == Outcome.PENDING


def reconcile():
    """Reconcile, then let the worker deliver the voids that reconciliation decided."""
    reconciled = authorizations_reconcile_unknown(older_than_seconds=0)
    void_steps_deliver()
    return reconciled


def panel_groups(order) -> list[str]:
    conditions = group_conditions(now())
    return [
        key
        for key, condition in conditions.items()
        if Order.objects.filter(condition, pk=order.pk).exists()
    ]


def assert_state_true(order):
    order.refresh_from_db()
    assert order.payment_state == payment_state_compute(order).state


def test_a_reconciled_reauthorization_completes_the_link_and_voids_the_earlier_hold(csr):
    order = make_order(total=12_500)
    earlier = authorize(order)
    sent = link_send_reauthorization(order=order, actor=csr)
    pay_with_the_answer_lost(sent.link)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AWAITING_CUSTOMER
    assert reconcile() == 1
    sent.link.refresh_from_db()
    assert (sent.link.status, sent.link.result_order) == (LinkStatus.COMPLETED, order)
    earlier.refresh_from_db()
    assert earlier.status == AuthorizationStatus.VOIDED
    assert SandboxTransaction.objects.get(reference=earlier.gateway_reference).status == "voided"
    new = Authorization.objects.get(order=order, source="customer_link")
    assert list(Authorization.objects.filter(order=order, status__in=LIVE)) == [new]
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    assert panel_groups(order) == []  # secured: off the unpaid panel, no longer awaiting
    assert order.events.filter(kind=EventKind.APPROVED).count() == 1
    assert_state_true(order)
    assert reconcile() == 0  # a second run finds nothing left to do
    assert order.events.filter(kind=EventKind.APPROVED).count() == 1


def test_a_reconciled_price_increase_replaces_the_order_once_and_tells_the_crm(csr):
    order = make_order(total=10_000)
    earlier = authorize(order)
    sent = link_send_price_increase(
        order=order, actor=csr, lines=[LineInput(description="Repair", unit_price=14_500)]
    )
    pay_with_the_answer_lost(sent.link)
    reconcile()
    reconcile()
    new = Order.objects.get(supersedes=order)
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.REPLACED)
    assert (new.number, new.total) == (f"{order.number}-1", 14_500)
    sent.link.refresh_from_db()
    assert (sent.link.status, sent.link.result_order) == (LinkStatus.COMPLETED, new)
    earlier.refresh_from_db()
    assert earlier.status == AuthorizationStatus.VOIDED
    held = Authorization.objects.get(status__in=LIVE)
    assert (held.order, held.amount) == (new, 14_500)
    assert CrmMessage.objects.filter(topic="order.replaced").count() == 1
    assert new.payment_state == PaymentState.AUTHORIZED and panel_groups(new) == []
    assert_state_true(order)
    assert_state_true(new)


def test_a_reconciled_decline_counts_as_the_customers_failed_attempt(csr):
    order = make_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    pay_with_the_answer_lost(sent.link, DECLINE_CARD)
    reconcile()
    sent.link.refresh_from_db()
    assert (sent.link.status, sent.link.failed_attempts) == (LinkStatus.OPEN, 1)
    assert pay(sent.link, DECLINE_CARD).attempts_left == 1  # as if it had been declined in time
    assert_state_true(order)


def test_a_reconciled_approval_of_a_link_revoked_meanwhile_is_released(csr):
    from orderdesk.links.services import link_revoke

    order = make_order()
    earlier = authorize(order)
    sent = link_send_reauthorization(order=order, actor=csr)
    pay_with_the_answer_lost(sent.link)
    link_revoke(link=sent.link, actor=csr)
    reconcile()
    new = Authorization.objects.get(order=order, source="customer_link")
    assert new.status == AuthorizationStatus.VOIDED
    assert list(Authorization.objects.filter(order=order, status__in=LIVE)) == [earlier]
    assert order.events.filter(kind=EventKind.NOTE, message__contains="released").count() == 1
    assert_state_true(order)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_reconciliations_racing_a_customer_retry_replace_the_order_exactly_once(csr, settings):
    # The gateway's fetch is slow: the customer's retry arrives while reconciliation asks.
    settings.ORDERDESK_SANDBOX = {
        **settings.ORDERDESK_SANDBOX,
        "operations": {"fetch": {"latency_ms": 500}},
    }
    order = make_order(total=0)
    sent = link_send_price_increase(
        order=order, actor=csr, lines=[LineInput(description="Repair", unit_price=31_000)]
    )
    pay_with_the_answer_lost(sent.link)
    token = card_token()
    actions = [reconcile, reconcile, reconcile]
    actions.append(lambda: link_checkout(link=sent.link, payment_token=token, method="card"))
    outcomes = run_at_once(actions)
    assert not [
        o
        for o in outcomes
        if isinstance(o, Exception) and not isinstance(o, (LinkBusy, LinkUnavailable))
    ], outcomes
    assert Order.objects.filter(supersedes=order).count() == 1
    assert CrmMessage.objects.filter(topic="order.replaced").count() == 1
    assert Authorization.objects.count() == 1
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.COMPLETED


def run_at_once(actions):
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def worker(index):
        try:
            barrier.wait()
            outcomes[index] = actions[index]()
        except Exception as error:  # collected and asserted on by the caller
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
