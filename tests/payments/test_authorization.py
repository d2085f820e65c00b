"""Authorizing an order: what is recorded, and when it is refused."""

import pytest

from orderdesk.orders.models import EventKind, PaymentState
from orderdesk.payments.errors import NothingToAuthorize
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import external_payment_record
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.shipping import order_ship
from tests.factories import DECLINE_CARD, authorize, card_token, make_order

pytestmark = pytest.mark.django_db


def test_an_authorization_records_amount_instrument_source_and_who(csr):
    order = make_order(total=12_345)
    authorization = authorize(order, actor=csr)
    assert (authorization.amount, authorization.currency) == (12_345, "USD")
    assert (authorization.source, authorization.created_by, authorization.method) == (
        AuthorizationSource.STOREFRONT,
        csr,
        "card",
    )
    assert authorization.instrument == "Visa •••• 4242"
    assert authorization.idempotency_key.startswith("auth-")
    kinds = list(order.events.order_by("id").values_list("kind", flat=True))
    assert kinds == [
        EventKind.CREATED,
        EventKind.AUTHORIZATION_REQUESTED,
        EventKind.AUTHORIZATION_MADE,
    ]
    made = order.events.get(kind=EventKind.AUTHORIZATION_MADE)
    assert made.message == "Authorized USD 123.45 on Visa •••• 4242"
    order.refresh_from_db()
    assert (order.payment_state, order.authorized_amount, order.payment_expires_at) == (
        PaymentState.AUTHORIZED,
        12_345,
        authorization.expires_at,
    )


def test_a_declined_card_fails_the_order_and_a_later_approval_secures_it(csr):
    order = make_order()
    declined = authorize(order, DECLINE_CARD, actor=csr)
    assert (declined.status, declined.decline_code) == (
        AuthorizationStatus.DECLINED,
        "card_declined",
    )
    order.refresh_from_db()
    assert order.payment_state == PaymentState.FAILED
    failed = order.events.get(kind=EventKind.AUTHORIZATION_FAILED)
    assert failed.message == "Authorization declined: card declined"
    authorize(order, actor=csr)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED


def assert_refused_without_a_trace(order, error, match):
    authorizations = Authorization.objects.count()
    events = order.events.count()
    with pytest.raises(error, match=match):
        authorize(order)
    assert Authorization.objects.count() == authorizations
    assert order.events.count() == events
    assert (
        not SandboxTransaction.objects.filter(kind="authorization")
        .exclude(
            idempotency_key__in=list(
                Authorization.objects.values_list("idempotency_key", flat=True)
            )
        )
        .exists()
    )


def test_a_cancelled_order_cannot_be_authorized(supervisor):
    order = make_order()
    order_cancel(order=order, actor=supervisor)
    assert_refused_without_a_trace(order, NothingToAuthorize, "is cancelled")


@pytest.mark.parametrize("source", ["manual", "storefront", "customer_link"])
def test_an_order_on_terms_is_never_authorized_whoever_asks(csr, source):
    from orderdesk.payments.services import authorization_request

    order = make_order(payment_method="terms")
    before = Authorization.objects.count()
    with pytest.raises(NothingToAuthorize, match="on terms"):
        authorization_request(
            order=order, payment_token=card_token(), method="card", source=source, actor=csr
        )
    assert Authorization.objects.count() == before
    assert not SandboxTransaction.objects.filter(kind="authorization").exists()


def test_a_shipped_order_cannot_be_authorized(csr):
    order = make_order(status="ready_to_ship")
    authorize(order)
    order_ship(order=order, actor=csr)
    assert_refused_without_a_trace(order, NothingToAuthorize, "is shipped")


def test_an_order_that_owes_nothing_is_not_authorized(supervisor):
    order = make_order(total=5_000)
    external_payment_record(
        order=order, amount=5_000, reference="CASH", reason="paid at counter", actor=supervisor
    )
    assert_refused_without_a_trace(order, NothingToAuthorize, "owes nothing")
    unpriced = make_order(total=0)
    assert_refused_without_a_trace(unpriced, NothingToAuthorize, "owes nothing")


def test_only_a_supervisor_records_an_external_payment_with_reference_and_reason(csr, supervisor):
    from django.core.exceptions import PermissionDenied

    order = make_order(total=5_000)
    with pytest.raises(PermissionDenied):
        external_payment_record(
            order=order, amount=5_000, reference="CASH", reason="counter", actor=csr
        )
    for amount, reference, reason, field in [
        (0, "CASH", "counter", "amount"),
        (5_000, "  ", "counter", "reference"),
        (5_000, "CASH", "", "reason"),
    ]:
        with pytest.raises(NothingToAuthorize) as refused:
            external_payment_record(
                order=order, amount=amount, reference=reference, reason=reason, actor=supervisor
            )
        assert refused.value.field == field
    assert not order.external_payments.exists()
    order.refresh_from_db()
    assert order.payment_state == PaymentState.UNAUTHORIZED
    external_payment_record(
        order=order, amount=5_000, reference="CASH", reason="counter", actor=supervisor
    )
    order.refresh_from_db()
    assert order.payment_state == PaymentState.PAID
    event = order.events.get(kind=EventKind.EXTERNAL_PAYMENT)
    assert (event.actor, event.details) == (supervisor, {"reason": "counter", "reference": "CASH"})


def test_external_payment_is_refused_on_a_cancelled_order_and_beyond_what_is_owed(supervisor):
    from orderdesk.payments.errors import NothingToAuthorize
    from orderdesk.payments.models import ExternalPayment
    from orderdesk.payments.services import external_payment_record
    from orderdesk.workflows.cancellation import order_cancel
    from tests.factories import make_order

    order = make_order(total=10_000)
    with pytest.raises(NothingToAuthorize) as refused:
        external_payment_record(
            order=order, amount=10_001, reference="BT-1", reason="wire", actor=supervisor
        )
    assert refused.value.field == "amount"
    order_cancel(order=order, actor=supervisor)
    with pytest.raises(NothingToAuthorize):
        external_payment_record(
            order=order, amount=5_000, reference="BT-2", reason="wire", actor=supervisor
        )
    assert not ExternalPayment.objects.filter(order=order).exists()
