"""Concurrent approvals of one link (double clicks, two tabs) authorize once, replace once."""

import threading

import pytest
from django.db import connections

from orderdesk.links.models import LinkStatus
from orderdesk.links.services import (
    LinkBusy,
    LinkUnavailable,
    link_checkout,
    link_send_price_increase,
    link_send_reauthorization,
)
from orderdesk.orders.models import Order, OrderStatus
from orderdesk.orders.services import LineInput
from orderdesk.payments.models import Authorization, AuthorizationStatus
from tests.factories import card_token, make_order

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 12


def approve_all_at_once(link) -> list[str]:
    tokens = [card_token() for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def approve(payment_token):
        try:
            barrier.wait()
            try:
                result = link_checkout(link=link, payment_token=payment_token, method="card")
                outcome = result.outcome
            except (LinkBusy, LinkUnavailable) as refusal:
                outcome = type(refusal).__name__
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()  # orderdesk's and the gateway ledger's

    threads = [threading.Thread(target=approve, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_many_simultaneous_reauthorizations_authorize_once(csr):
    order = make_order(total=4_200)
    sent = link_send_reauthorization(order=order, actor=csr)
    outcomes = approve_all_at_once(sent.link)
    assert len(outcomes) == THREADS
    assert outcomes.count("approved") == 1
    assert Authorization.objects.filter(order=order).count() == 1
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.COMPLETED


def test_many_simultaneous_price_increase_approvals_create_one_new_order(csr):
    order = make_order(total=0)
    sent = link_send_price_increase(
        order=order, actor=csr, lines=[LineInput(description="Repair", unit_price=31_000)]
    )
    outcomes = approve_all_at_once(sent.link)
    assert outcomes.count("approved") == 1
    assert Order.objects.filter(supersedes=order).count() == 1
    assert Order.objects.count() == 2
    live = Authorization.objects.filter(status=AuthorizationStatus.AUTHORIZED)
    assert live.count() == 1 and live.get().order.supersedes == order
    assert Authorization.objects.count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
