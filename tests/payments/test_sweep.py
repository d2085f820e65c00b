"""Rule 4: the expiry sweep expires exactly the lapsed authorizations, set-based, idempotently."""

from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from orderdesk.orders.models import EventKind, Order, OrderEvent, PaymentState
from orderdesk.payments.models import Authorization, AuthorizationSource, AuthorizationStatus
from orderdesk.payments.services import void_steps_deliver
from orderdesk.payments.state import payment_state_compute
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.shipping import order_ship
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db

SWEEP_AT = datetime(2026, 6, 1, 9, 0, 0, tzinfo=timezone.utc)
VALIDITY = timedelta(days=29)


def authorized_at(moment, **order_fields):
    with time_machine.travel(moment, tick=False):
        order = make_order(**order_fields)
        return order, authorize(order)


def assert_stored_state_matches_rebuilt(at):
    with time_machine.travel(at, tick=False):
        for order in Order.objects.all():
            rebuilt = payment_state_compute(order)
            stored = (order.payment_state, order.payment_expires_at, order.authorized_amount)
            assert stored == (rebuilt.state, rebuilt.expires_at, rebuilt.authorized_amount), (
                order.number
            )


@pytest.fixture
def mixed_book(csr, supervisor):
    """Authorizations of many ages around the sweep moment, plus ones the sweep must not touch."""
    lapsed, live = [], []
    for hours in (24 * 40, 24 * 30, 24 * 29 + 1, 24 * 29):  # made 29 days or more before
        lapsed.append(authorized_at(SWEEP_AT - timedelta(hours=hours)))
    lapsed.append(authorized_at(SWEEP_AT - VALIDITY))  # expires exactly at the sweep
    live.append(authorized_at(SWEEP_AT - VALIDITY + timedelta(seconds=1)))  # one second left
    for days in (28, 10, 1, 0):
        live.append(authorized_at(SWEEP_AT - timedelta(days=days)))
    # Old, but no longer live: captured, voided, declined.
    shipped, captured = authorized_at(SWEEP_AT - timedelta(days=40), status="ready_to_ship")
    with time_machine.travel(SWEEP_AT - timedelta(days=35), tick=False):
        order_ship(order=shipped, actor=csr)
    cancelled, voided = authorized_at(SWEEP_AT - timedelta(days=40))
    with time_machine.travel(SWEEP_AT - timedelta(days=35), tick=False):
        order_cancel(order=cancelled, actor=supervisor)
        void_steps_deliver()  # the worker releases the hold
        declined_order = make_order()
        declined = authorize(declined_order, DECLINE_CARD)
    return {
        "lapsed": lapsed,
        "live": live,
        "untouched": [(shipped, captured), (cancelled, voided), (declined_order, declined)],
    }


def test_sweep_expires_exactly_the_lapsed_authorizations(mixed_book):
    before = {a.pk: Authorization.objects.get(pk=a.pk).status for _, a in mixed_book["untouched"]}
    assert sorted(before.values()) == ["captured", "declined", "voided"]
    with time_machine.travel(SWEEP_AT, tick=False):
        assert authorizations_expire() == 5
    expired = set(
        Authorization.objects.filter(status=AuthorizationStatus.EXPIRED).values_list(
            "pk", flat=True
        )
    )
    assert expired == {a.pk for _, a in mixed_book["lapsed"]}
    for _, authorization in mixed_book["live"]:
        authorization.refresh_from_db()
        assert authorization.status == AuthorizationStatus.AUTHORIZED
    for _, authorization in mixed_book["untouched"]:
        authorization.refresh_from_db()
        assert authorization.status == before[authorization.pk]


def test_sweep_writes_one_expired_event_per_expired_authorization(mixed_book):
    with time_machine.travel(SWEEP_AT, tick=False):
        authorizations_expire()
    events = OrderEvent.objects.filter(kind=EventKind.AUTHORIZATION_EXPIRED)
    assert sorted(events.values_list("order_id", flat=True)) == sorted(
        o.pk for o, _ in mixed_book["lapsed"]
    )
    assert set(events.values_list("created_at", "actor_label", "message")) == {
        (SWEEP_AT, "expiry sweep", "Authorization expired")
    }
    for order, _ in mixed_book["lapsed"]:
        order.refresh_from_db()
        assert (order.last_action, order.last_action_at) == ("Authorization expired", SWEEP_AT)


def test_sweep_moves_the_orders_payment_state_to_expired(mixed_book):
    with time_machine.travel(SWEEP_AT, tick=False):
        authorizations_expire()
    for order, authorization in mixed_book["lapsed"]:
        order.refresh_from_db()
        assert order.payment_state == PaymentState.EXPIRED
        assert order.payment_expires_at == authorization.expires_at
    for order, _ in mixed_book["live"]:
        order.refresh_from_db()
        assert order.payment_state == PaymentState.AUTHORIZED
    states = {o.pk: Order.objects.get(pk=o.pk).payment_state for o, _ in mixed_book["untouched"]}
    assert sorted(states.values()) == [PaymentState.FAILED, PaymentState.PAID, PaymentState.VOID]
    assert_stored_state_matches_rebuilt(SWEEP_AT)


def test_running_the_sweep_twice_changes_nothing_more(mixed_book):
    with time_machine.travel(SWEEP_AT, tick=False):
        authorizations_expire()
        orders = list(Order.objects.order_by("pk").values())
        authorizations = list(Authorization.objects.order_by("pk").values())
        events = OrderEvent.objects.count()
        assert authorizations_expire() == 0
    assert list(Order.objects.order_by("pk").values()) == orders
    assert list(Authorization.objects.order_by("pk").values()) == authorizations
    assert OrderEvent.objects.count() == events


def test_sweep_agrees_with_the_rebuilt_state_as_time_passes(mixed_book):
    for step in range(0, 31, 3):
        moment = SWEEP_AT + timedelta(days=step)
        with time_machine.travel(moment, tick=False):
            authorizations_expire()
        assert_stored_state_matches_rebuilt(moment)
    assert not Authorization.objects.filter(status=AuthorizationStatus.AUTHORIZED).exists()


def test_an_expired_order_stays_expired_when_one_of_two_holds_lapses_first():
    order, first = authorized_at(SWEEP_AT - timedelta(days=29))
    # A second, partial authorization that outlives the first does not cover the total.
    with time_machine.travel(SWEEP_AT - timedelta(days=1), tick=False):
        second = authorize(order, amount=order.total - 1, source=AuthorizationSource.CUSTOMER_LINK)
    with time_machine.travel(SWEEP_AT, tick=False):
        assert authorizations_expire() == 1
    assert_stored_state_matches_rebuilt(SWEEP_AT)
    second.refresh_from_db()
    assert second.status == AuthorizationStatus.AUTHORIZED


@pytest.mark.parametrize("rows", [3, 30])
def test_sweep_is_set_based_its_query_count_does_not_grow_with_rows(
    rows, django_assert_max_num_queries
):
    for index in range(rows):
        authorized_at(SWEEP_AT - VALIDITY - timedelta(minutes=index))
    with time_machine.travel(SWEEP_AT, tick=False), django_assert_max_num_queries(8):
        assert authorizations_expire() == rows
    assert OrderEvent.objects.filter(kind=EventKind.AUTHORIZATION_EXPIRED).count() == rows


def test_a_shipped_order_still_owing_moves_to_expired_when_its_partial_hold_lapses(supervisor):
    with time_machine.travel(SWEEP_AT - VALIDITY, tick=False):
        order = make_order(status="ready_to_ship")
        partial = authorize(order, amount=order.total // 2)
        order_ship(order=order, actor=supervisor, override_reason="customer pays rest on delivery")
    order.refresh_from_db()
    assert (order.payment_state, order.payment_expires_at) == (
        PaymentState.UNAUTHORIZED,
        partial.expires_at,
    )
    with time_machine.travel(SWEEP_AT, tick=False):
        assert authorizations_expire() == 1
    order.refresh_from_db()
    assert order.payment_state == PaymentState.EXPIRED
    assert_stored_state_matches_rebuilt(SWEEP_AT)


def test_the_sweep_command_expires_lapsed_authorizations(capsys):
    from django.core.management import call_command

    _, authorization = authorized_at(SWEEP_AT - VALIDITY)
    with time_machine.travel(SWEEP_AT, tick=False):
        call_command("sweep")
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.EXPIRED
    assert "authorizations_expire: 1" in capsys.readouterr().out


def test_an_order_with_two_lapsing_authorizations_gets_two_events_and_expires_once():
    order, first = authorized_at(SWEEP_AT - VALIDITY - timedelta(days=2))
    with time_machine.travel(SWEEP_AT - VALIDITY - timedelta(days=1), tick=False):
        second = authorize(order, amount=order.total - 1, source=AuthorizationSource.CUSTOMER_LINK)
    with time_machine.travel(SWEEP_AT, tick=False):
        assert authorizations_expire() == 2
    for authorization in (first, second):
        authorization.refresh_from_db()
        assert authorization.status == AuthorizationStatus.EXPIRED
    events = OrderEvent.objects.filter(order=order, kind=EventKind.AUTHORIZATION_EXPIRED)
    assert events.count() == 2
    order.refresh_from_db()
    assert (order.payment_state, order.last_action_at) == (PaymentState.EXPIRED, SWEEP_AT)
    assert_stored_state_matches_rebuilt(SWEEP_AT)


def test_sweep_reads_the_lapsed_set_from_the_live_expiry_index():
    from django.db import connection

    from orderdesk.payments.sweep import _lapsed_where, _names

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL picks its plan from table statistics; checked in the benchmark")
    table = Authorization._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN QUERY PLAN SELECT order_id FROM {table} WHERE {_lapsed_where(_names())}",
            [SWEEP_AT.isoformat()],
        )
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "authorization_live_expiry" in plan


def test_the_sweep_expires_only_from_the_statuses_the_state_machine_allows():
    from orderdesk.payments.models import LIVE
    from orderdesk.payments.statuses import AUTHORIZATION_MACHINE
    from orderdesk.payments.sweep import expirable

    assert expirable() == tuple(LIVE)  # also the condition of authorization_live_expiry
    for status in expirable():
        assert AUTHORIZATION_MACHINE.allowed(status, AuthorizationStatus.EXPIRED)
    for status in set(AuthorizationStatus.values) - set(expirable()):
        assert not AUTHORIZATION_MACHINE.allowed(status, AuthorizationStatus.EXPIRED)
