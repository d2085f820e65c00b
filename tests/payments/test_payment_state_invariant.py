"""The payment state kept on each order always equals the one rebuilt from the payment records.

Hypothesis drives random sequences of the real services (authorize with every test card,
time passing with the sweep, timeouts and reconciliation, cancel, ship, external payments,
status moves, payment links sent and paid); after each step every order's stored state must
equal the rebuilt one, and the rebuilt one must equal the rules asked one query at a time
(the definition before the records were read in one statement).
"""

import contextlib
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.statemachine import TransitionNotAllowed
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services import (
    LinkBusy,
    LinkUnavailable,
    link_checkout,
    link_send_price_increase,
    link_send_reauthorization,
    price_increase_decline,
)
from orderdesk.orders.models import Order, OrderKind, OrderStatus, PaymentMethod, PaymentState
from orderdesk.orders.services import LineInput, order_status_set
from orderdesk.payments.gateways.sandbox import inject_faults
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.services import (
    authorization_reconcile,
    external_payment_record,
    void_steps_deliver,
    void_steps_reconcile,
)
from orderdesk.payments.state import (
    FAILED,
    GATEWAY_OUTAGE_CODES,
    LIVE,
    PaymentSnapshot,
    amount_paid,
    current_authorization,
    payment_state_compute,
)
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.shipping import order_ship, shipments_reconcile
from tests.factories import (
    APPROVE_CARD,
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
    PROCESSOR_ERROR_CARD,
    authorize,
    card_token,
    make_order,
)

pytestmark = pytest.mark.django_db

DAY = 24 * 3600
START = datetime(2026, 1, 5, 12, 0, 0, tzinfo=timezone.utc)
REFUSALS = (
    BusinessRuleError,
    TransitionNotAllowed,
    PermissionDenied,
    LinkBusy,
    LinkUnavailable,
)

order_index = st.integers(min_value=0, max_value=5)
steps = st.one_of(
    st.tuples(
        st.just("create"),
        st.sampled_from(["repair", "sale"]),
        st.sampled_from(["card", "card", "paypal", "terms"]),
        st.sampled_from([0, 1, 9_999, 25_000]),
    ),
    st.tuples(
        st.just("authorize"),
        order_index,
        st.sampled_from([APPROVE_CARD, APPROVE_CARD, DECLINE_CARD, INSUFFICIENT_FUNDS_CARD]),
    ),
    st.tuples(st.just("authorize_part"), order_index),
    st.tuples(st.just("authorize_processor_error"), order_index),
    st.tuples(st.just("authorize_timeout"), order_index),
    st.tuples(st.just("authorize_server_error"), order_index),
    st.tuples(st.just("reconcile"), order_index),
    st.tuples(st.just("link_send"), order_index),
    st.tuples(
        st.just("link_pay"),
        order_index,
        st.sampled_from([APPROVE_CARD, APPROVE_CARD, DECLINE_CARD, PROCESSOR_ERROR_CARD]),
    ),
    st.tuples(st.just("link_pay_timeout"), order_index),
    st.tuples(st.just("price_increase"), order_index, st.booleans()),
    st.tuples(
        st.just("travel"),
        st.one_of(
            # Durations around the 29-day validity, which plain integers rarely hit.
            st.sampled_from([1, 3600, DAY, 7 * DAY, 28 * DAY, 29 * DAY - 1, 29 * DAY, 30 * DAY]),
            st.integers(min_value=1, max_value=35 * DAY),
        ),
    ),
    st.tuples(st.just("cancel"), order_index),
    st.tuples(st.just("ship"), order_index, st.booleans()),
    # The gateway captures and the answer is lost; the worker (voids, reconciliation) runs,
    # meeting a fault on its voids or not.
    st.tuples(st.just("ship_answer_lost"), order_index),
    st.tuples(st.just("worker"), st.sampled_from(["", "timeout", "server_error"])),
    st.tuples(st.just("external"), order_index, st.sampled_from([1, 2])),
    st.tuples(
        st.just("status"),
        order_index,
        st.sampled_from(["open", "in_progress", "ready_to_ship"]),
    ),
)


def pick(orders, index):
    return Order.objects.get(pk=orders[index % len(orders)].pk) if orders else None


def run_step(step, orders, traveller, csr, supervisor):
    action, *args = step
    if action == "create":
        kind, method, total = args
        orders.append(make_order(kind=kind, payment_method=method, total=total))
        return
    if action == "travel":
        traveller.shift(timedelta(seconds=args[0]))
        return
    if action == "worker":
        with inject_faults(*([args[0]] if args[0] else []), operation="void"):
            void_steps_deliver()
            void_steps_reconcile()
        shipments_reconcile()
        return
    order = pick(orders, args[0])
    if order is None:
        return
    if action == "authorize":
        authorize(order, args[1])
    elif action == "authorize_part":
        authorize(order, amount=max(order.total // 2, 1))
    elif action == "authorize_processor_error":
        authorize(order, PROCESSOR_ERROR_CARD)
    elif action == "authorize_timeout":
        with inject_faults("timeout"):
            authorize(order)
    elif action == "authorize_server_error":
        with inject_faults("server_error"):
            authorize(order)
    elif action == "reconcile":
        for unknown in Authorization.objects.filter(
            order=order, status=AuthorizationStatus.UNKNOWN
        ):
            authorization_reconcile(unknown)
    elif action == "link_send":
        link_send_reauthorization(order=order, actor=csr, confirm=True)
    elif action in ("link_pay", "link_pay_timeout"):
        link = link_send_reauthorization(order=order, actor=csr, confirm=True).link
        card = args[1] if action == "link_pay" else APPROVE_CARD
        with inject_faults(*(["timeout"] if action == "link_pay_timeout" else [])):
            link_checkout(link=link, payment_token=card_token(card), method="card")
    elif action == "price_increase":
        line = LineInput(description="Repair as found", unit_price=order.total + 5_000)
        link = link_send_price_increase(order=order, actor=csr, lines=[line]).link
        if args[1]:
            price_increase_decline(link=link)
    elif action == "cancel":
        order_cancel(order=order, actor=supervisor)
    elif action == "ship":
        override = args[1]
        actor = supervisor if override else csr
        order_ship(
            order=order, actor=actor, override_reason="approved by phone" if override else ""
        )
    elif action == "ship_answer_lost":
        with inject_faults("timeout", operation="capture"):
            order_ship(order=order, actor=csr)
    elif action == "external":
        owed = order.total // args[1]
        external_payment_record(
            order=order,
            amount=owed,
            reference="BANK-1",
            reason="paid by transfer",
            actor=supervisor,
        )
    elif action == "status":
        order_status_set(order=order, to=args[1], actor=csr)


def has_open_link(order: Order) -> bool:
    return PaymentLink.objects.filter(order=order, status=LinkStatus.OPEN).exists()


def price_increase_declined(order: Order) -> bool:
    """The newest link is a declined price increase and no authorization came after it."""
    newest = PaymentLink.objects.filter(order=order).order_by("-id").first()
    return (
        newest is not None
        and newest.status == LinkStatus.DECLINED
        and not Authorization.objects.filter(
            order=order, created_at__gt=newest.completed_at
        ).exists()
    )


def payment_state_by_queries(order: Order) -> PaymentSnapshot:
    """The rules of payment_state_compute asked of the database one query at a time."""
    if order.status == OrderStatus.CANCELLED:
        return PaymentSnapshot(PaymentState.VOID)
    if order.payment_method == PaymentMethod.TERMS:
        return PaymentSnapshot(PaymentState.NOT_REQUIRED)
    outstanding = order.total - amount_paid(order)
    if order.total > 0 and outstanding <= 0:
        return PaymentSnapshot(PaymentState.PAID)
    if order.total == 0:
        if order.kind == OrderKind.REPAIR and not has_open_link(order):
            return PaymentSnapshot(PaymentState.AWAITING_PRICE)
        if order.kind == OrderKind.SALE:
            return PaymentSnapshot(PaymentState.NOT_REQUIRED)
    authorizations = Authorization.objects.filter(order=order)
    current = current_authorization(order)
    lapsed = (
        None
        if current
        else authorizations.filter(status__in=(*LIVE, AuthorizationStatus.EXPIRED))
        .order_by("-expires_at", "-id")
        .first()
    )
    shown = current or lapsed
    last_attempt = (
        authorizations.exclude(status=AuthorizationStatus.VOIDED)
        # A gateway outage is not a failed attempt of the customer's.
        .exclude(status=AuthorizationStatus.ERROR, decline_code__in=GATEWAY_OUTAGE_CODES)
        .order_by("-created_at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    if has_open_link(order):
        state = PaymentState.AWAITING_CUSTOMER
    elif price_increase_declined(order):
        state = PaymentState.AWAITING_PRICE
    elif last_attempt in FAILED:
        state = PaymentState.FAILED
    elif current is not None and current.amount >= outstanding:
        state = PaymentState.AUTHORIZED
    elif lapsed is not None:
        state = PaymentState.EXPIRED
    else:
        state = PaymentState.UNAUTHORIZED
    return PaymentSnapshot(state, shown.expires_at if shown else None, shown.amount if shown else 0)


def assert_nothing_captured_twice():
    captures = SandboxTransaction.objects.filter(kind="capture", status="captured")
    counts = captures.values("parent_reference").annotate(n=Count("id")).values_list("n", flat=True)
    assert all(count == 1 for count in counts)
    for authorization in Authorization.objects.exclude(captures=None):
        assert authorization.captures.count() == 1, authorization


def assert_every_order_matches_its_rebuilt_state():
    for order in Order.objects.all():
        rebuilt = payment_state_compute(order)
        stored = (order.payment_state, order.payment_expires_at, order.authorized_amount)
        expected = (rebuilt.state, rebuilt.expires_at, rebuilt.authorized_amount)
        assert stored == expected, f"order {order.number} ({order.status})"
        # The link facts the link workflow records on the order agree with the links.
        assert order.customer_link_open == has_open_link(order), f"order {order.number}"
        assert rebuilt == payment_state_by_queries(order), f"order {order.number}"


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(steps, min_size=1, max_size=18))
# Found once: a shipment overridden on a partial hold, then the hold lapses.
@example(sequence=[("authorize_part", 0), ("ship", 0, True), ("travel", 29 * DAY)])
# A timeout, a cancellation, then reconciliation of the hold that surfaced.
@example(sequence=[("authorize_timeout", 0), ("cancel", 0), ("reconcile", 0)])
# A valid hold replaced through a link, a declined link payment, a link payment that timed out.
@example(sequence=[("authorize", 0, APPROVE_CARD), ("link_pay", 0, APPROVE_CARD)])
@example(sequence=[("link_pay", 0, DECLINE_CARD), ("link_pay_timeout", 0), ("reconcile", 0)])
# A capture whose answer was lost, a void that timed out, then the worker after the backoff.
@example(
    sequence=[
        ("authorize", 0, APPROVE_CARD),
        ("ship_answer_lost", 0),
        ("ship", 0, False),
        ("create", "repair", "card", 9_999),
        ("authorize", 1, APPROVE_CARD),
        ("cancel", 1),
        ("worker", "timeout"),
        ("travel", 3600),
        ("worker", "server_error"),
        ("travel", 3600),
        ("worker", ""),
    ]
)
# A declined price increase on an authorized order, then the hold lapses, then a new hold.
@example(
    sequence=[
        ("authorize", 0, APPROVE_CARD),
        ("price_increase", 0, True),
        ("travel", 30 * DAY),
        ("authorize", 0, APPROVE_CARD),
    ]
)
def test_stored_payment_state_always_equals_the_rebuilt_state(sequence, csr, supervisor):
    # Each example runs in a savepoint rolled back at its end, so examples never share data.
    with transaction.atomic(), time_machine.travel(START, tick=False) as traveller:
        orders = [make_order(status="ready_to_ship")]
        for step in sequence:
            with contextlib.suppress(REFUSALS):
                run_step(step, orders, traveller, csr, supervisor)
            authorizations_expire()
            assert_every_order_matches_its_rebuilt_state()
            assert_nothing_captured_twice()
        transaction.set_rollback(True)


def test_a_shipped_order_is_never_left_owing_without_an_override(csr):
    """A companion check: shipping without an override always leaves the order paid."""
    order = make_order(status="ready_to_ship")
    authorize(order)
    order_ship(order=order, actor=csr)
    order.refresh_from_db()
    assert (order.status, order.payment_state) == (OrderStatus.SHIPPED, "paid")
