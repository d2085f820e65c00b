"""`make bench` (c) compares the approval with a floor view doing its durable work in raw SQL
(bench/approve_floor.py): the floor must send what a real approval sends."""

import pytest

from bench.approve_floor import (
    approval_and_floor_recorded,
    durable_work_recorded,
    floor_differences,
)
from bench.measure import approve_links_prepare
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.orders.models import PaymentState
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.sandbox.models import SandboxTransaction

# Commits are what is counted: the test's own transaction must not swallow them.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_the_floor_sends_the_statements_and_commits_of_a_real_approval():
    (real, card), (floor, _), (real_again, _), (floor_again, _) = approve_links_prepare(4)
    # The first request from an address adds its rate-limit counter; later ones increment it.
    for approval_token, floor_token in ((real, floor), (real_again, floor_again)):
        approval, floor_recorded = approval_and_floor_recorded(approval_token, floor_token, card)
        assert floor_differences(approval, floor_recorded) == []
        assert approval.counts()["sandbox"] == {"statements": 1, "commits": 1}
        assert approval.counts()["default"]["commits"] >= 4


def test_the_floor_leaves_the_rows_an_approval_leaves():
    (real, card), (floor, _) = approve_links_prepare(2)
    approval_and_floor_recorded(real, floor, card)
    links = PaymentLink.objects.select_related("order").order_by("pk")
    assert [link.status for link in links] == [LinkStatus.COMPLETED] * 2
    assert [link.order.payment_state for link in links] == [PaymentState.AUTHORIZED] * 2
    assert [link.order.crm_version for link in links] == [links[0].order.crm_version] * 2
    holds = Authorization.objects.order_by("order_id")
    assert [hold.status for hold in holds] == [AuthorizationStatus.AUTHORIZED] * 2
    ledger = SandboxTransaction.objects.order_by("pk")
    assert sorted(row.idempotency_key for row in ledger) == sorted(
        hold.idempotency_key for hold in holds
    )
    assert [link.order.events.count() for link in links] == [links[0].order.events.count()] * 2


def test_a_floor_that_skips_a_statement_is_told_apart():
    (real, card), (floor, _) = approve_links_prepare(2)
    approval, floor_recorded = approval_and_floor_recorded(real, floor, card)
    floor_recorded.statements["default"].pop()
    assert floor_differences(approval, floor_recorded)
    with durable_work_recorded() as nothing:
        pass
    assert floor_differences(approval, nothing)
