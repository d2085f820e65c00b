"""A timeout leaves the outcome unknown; reconciliation settles it; no order is authorized twice."""

from datetime import timedelta

import pytest
import time_machine

from orderdesk.common.clock import now
from orderdesk.orders.models import EventKind, PaymentState
from orderdesk.payments.errors import AuthorizationInProgress
from orderdesk.payments.gateways.sandbox import inject_faults
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import (
    authorization_reconcile,
    authorizations_reconcile_unknown,
    void_steps_deliver,
)
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.sandbox.models import SandboxTransaction
from tests.factories import authorize, make_order

pytestmark = pytest.mark.django_db


def ledger_authorizations(key):
    return SandboxTransaction.objects.filter(kind="authorization", idempotency_key=key)


def test_a_timeout_records_the_outcome_as_unknown(csr):
    order = make_order()
    with inject_faults("timeout"):
        authorization = authorize(order, actor=csr)
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.UNKNOWN
    assert authorization.expires_at is None
    assert order.payment_state == PaymentState.UNAUTHORIZED
    # The gateway acted; only the answer was lost.
    assert ledger_authorizations(authorization.idempotency_key).get().status == "authorized"
    assert order.events.filter(kind=EventKind.AUTHORIZATION_UNKNOWN).count() == 1


def test_a_second_authorization_is_refused_while_the_first_is_unknown(csr):
    order = make_order()
    with inject_faults("timeout"):
        authorize(order, actor=csr)
    with pytest.raises(AuthorizationInProgress):
        authorize(order, actor=csr)
    assert Authorization.objects.filter(order=order).count() == 1
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1


def test_reconciling_a_timed_out_authorization_settles_it_once(csr):
    order = make_order()
    with inject_faults("timeout"):
        unknown = authorize(order, actor=csr)
    settled = authorization_reconcile(unknown)
    assert settled.status == AuthorizationStatus.AUTHORIZED
    assert settled.expires_at is not None
    ledger = ledger_authorizations(unknown.idempotency_key).get()
    assert settled.gateway_reference == ledger.reference
    assert (settled.card_brand, settled.card_last4) == ("Visa", "4242")
    # Reconciling again changes nothing and asks nothing new of the gateway.
    again = authorization_reconcile(Authorization.objects.get(pk=unknown.pk))
    assert again.status == AuthorizationStatus.AUTHORIZED
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    assert order.authorized_amount == order.total
    assert order.events.filter(kind=EventKind.AUTHORIZATION_RECONCILED).count() == 1


def test_a_reconciled_authorization_expires_counting_from_its_request(csr):
    from datetime import timedelta

    import time_machine

    from orderdesk.common.clock import now

    start = now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        order = make_order()
        with inject_faults("timeout"):
            unknown = authorize(order, actor=csr)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        settled = authorization_reconcile(unknown)
    # The gateway authorized at the request: the hold lapses 29 days from then, not later.
    assert settled.authorized_at == start
    assert settled.expires_at == start + timedelta(days=29)


def test_after_reconciliation_a_new_authorization_is_allowed_only_for_what_is_still_owed(csr):
    from orderdesk.payments.errors import NothingToAuthorize

    order = make_order()
    with inject_faults("timeout"):
        unknown = authorize(order, actor=csr)
    authorization_reconcile(unknown)
    # The reconciled hold secures the order: a second one is refused, nothing reaches the card.
    with pytest.raises(NothingToAuthorize, match="already secured"):
        authorize(order, actor=csr)
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1
    # Re-authorizing through a payment link (re-trigger the cart) is allowed, with a new key.
    second = authorize(order, actor=csr, source=AuthorizationSource.CUSTOMER_LINK)
    assert second.idempotency_key != unknown.idempotency_key
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 2
    with pytest.raises(NothingToAuthorize):
        authorize(order, actor=csr, amount=0)


def test_a_valid_hold_that_covers_the_order_refuses_a_second_manual_card(csr):
    """Rule: never two holds for the same money (a stale order screen, two CSRs)."""
    from orderdesk.payments.errors import NothingToAuthorize

    order = make_order()
    authorize(order)
    with pytest.raises(NothingToAuthorize, match="already secured"):
        authorize(order, actor=csr, source=AuthorizationSource.MANUAL)
    assert order.authorizations.count() == 1
    # Once that hold lapses, the CSR can process a card.
    with time_machine.travel(now() + timedelta(days=30)):
        authorizations_expire()
        again = authorize(order, actor=csr, source=AuthorizationSource.MANUAL)
    assert again.status == AuthorizationStatus.AUTHORIZED


def test_a_server_error_is_a_definite_error_and_nothing_happens_at_the_gateway(csr):
    order = make_order()
    with inject_faults("server_error"):
        authorization = authorize(order, actor=csr)
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.ERROR
    assert authorization.decline_code == "gateway_unavailable"
    assert not SandboxTransaction.objects.exists()
    # The card was never declined: the order is not flagged as failed payment.
    assert order.payment_state == PaymentState.UNAUTHORIZED
    # A definite error is not in flight: the customer or a CSR may try again at once.
    retried = authorize(order, actor=csr)
    assert retried.status == AuthorizationStatus.AUTHORIZED
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1


def test_reconciling_a_key_the_gateway_never_saw_settles_to_error(csr):
    order = make_order()
    with inject_faults("timeout"):
        unknown = authorize(order, actor=csr)
    # As if the request had been lost on the way: the gateway has no record of the key.
    SandboxTransaction.objects.filter(idempotency_key=unknown.idempotency_key).delete()
    settled = authorization_reconcile(unknown)
    assert settled.status == AuthorizationStatus.ERROR
    assert settled.decline_code == "not_received"
    assert settled.expires_at is None
    order.refresh_from_db()
    assert order.payment_state == PaymentState.FAILED


def test_the_scheduled_reconciliation_settles_only_old_enough_unknowns(csr):
    from datetime import timedelta

    import time_machine

    from orderdesk.common.clock import now

    start = now()
    with time_machine.travel(start, tick=False):
        with inject_faults("timeout"):
            unknown = authorize(make_order(), actor=csr)
        assert authorizations_reconcile_unknown(older_than_seconds=60) == 0
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        assert authorizations_reconcile_unknown(older_than_seconds=60) == 1
    unknown.refresh_from_db()
    assert unknown.status == AuthorizationStatus.AUTHORIZED


def test_an_authorization_reconciled_after_the_order_was_cancelled_is_voided(csr, supervisor):
    from orderdesk.workflows.cancellation import order_cancel

    order = make_order()
    with inject_faults("timeout"):
        unknown = authorize(order, actor=csr)
    order_cancel(order=order, actor=supervisor)
    settled = authorization_reconcile(unknown)
    assert settled.status == AuthorizationStatus.AUTHORIZED  # its release is decided...
    assert void_steps_deliver() == {"succeeded": 1}  # ...and delivered by the worker
    settled.refresh_from_db()
    assert settled.status == AuthorizationStatus.VOIDED
    ledger = ledger_authorizations(unknown.idempotency_key).get()
    assert ledger.status == "voided"
    order.refresh_from_db()
    assert order.payment_state == PaymentState.VOID
