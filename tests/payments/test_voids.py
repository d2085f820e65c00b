"""A void is outbox work: decided in the deciding transaction, delivered by the worker,
retried until the gateway confirms, never aimed at a captured authorization."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction

from orderdesk.common.clock import now
from orderdesk.common.statemachine import TransitionNotAllowed
from orderdesk.orders.models import EventKind, PaymentState
from orderdesk.payments.gateways.sandbox import SERVER_ERROR, TIMEOUT, inject_faults
from orderdesk.payments.models import AuthorizationStatus, GatewayStep, StepStatus
from orderdesk.payments.services import authorization_void, void_steps_deliver
from orderdesk.payments.services.transitions import authorization_transition, step_transition
from orderdesk.payments.state import payment_state_compute
from orderdesk.sandbox.models import SandboxTransaction
from orderdesk.workflows.cancellation import order_cancel
from tests.factories import authorize, make_order

pytestmark = pytest.mark.django_db


def _ledger_hold(authorization) -> str:
    return SandboxTransaction.objects.get(reference=authorization.gateway_reference).status


def test_a_void_is_only_recorded_until_the_worker_delivers_it(supervisor):
    order = make_order()
    authorization = authorize(order)
    with transaction.atomic():
        authorization_void(authorization, actor=supervisor, reason="order cancelled")
        step = GatewayStep.objects.get()
    assert (step.kind, step.status, step.purpose) == ("void", StepStatus.PENDING, "order cancelled")
    assert step.idempotency_key.startswith(f"void-{authorization.pk}-")
    assert _ledger_hold(authorization) == "authorized"
    assert not SandboxTransaction.objects.filter(kind="void").exists()


def test_asking_twice_records_one_void(supervisor):
    authorization = authorize(make_order())
    authorization_void(authorization, reason="first")
    authorization_void(authorization, reason="second")
    assert GatewayStep.objects.count() == 1


def test_a_void_that_times_out_is_reconciled_and_the_ledger_agrees(supervisor):
    order = make_order()
    authorization = authorize(order)
    order_cancel(order=order, actor=supervisor)
    with inject_faults(TIMEOUT, operation="void"):
        assert void_steps_deliver() == {StepStatus.UNKNOWN: 1}
    step = GatewayStep.objects.get()
    assert step.status == StepStatus.UNKNOWN
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.AUTHORIZED  # not known yet
    assert void_steps_deliver() == {}  # its reconciliation waits for the backoff
    with time_machine.travel(now() + timedelta(seconds=30), tick=False):
        assert void_steps_deliver() == {StepStatus.SUCCEEDED: 1}
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.VOIDED == _ledger_hold(authorization)
    assert SandboxTransaction.objects.filter(kind="void").count() == 1


def test_a_void_that_meets_a_5xx_is_retried_with_backoff_until_the_gateway_confirms(supervisor):
    order = make_order()
    authorization = authorize(order)
    order_cancel(order=order, actor=supervisor)
    start = now()
    with inject_faults(SERVER_ERROR, SERVER_ERROR, operation="void"):
        assert void_steps_deliver() == {"retrying": 1}
        with time_machine.travel(start + timedelta(seconds=29), tick=False):
            assert void_steps_deliver() == {}  # not due before the first backoff
        with time_machine.travel(start + timedelta(seconds=31), tick=False):
            assert void_steps_deliver() == {"retrying": 1}
    step = GatewayStep.objects.get()
    assert (step.status, step.attempts) == (StepStatus.PENDING, 2)
    assert step.next_attempt_at >= start + timedelta(seconds=31 + 60)
    assert _ledger_hold(authorization) == "authorized"
    with time_machine.travel(start + timedelta(seconds=95), tick=False):
        assert void_steps_deliver() == {StepStatus.SUCCEEDED: 1}
    authorization.refresh_from_db()
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.VOIDED == _ledger_hold(authorization)
    assert order.payment_state == payment_state_compute(order).state == PaymentState.VOID
    assert order.events.filter(kind=EventKind.AUTHORIZATION_VOIDED).count() == 1


def test_a_void_is_never_aimed_at_a_captured_authorization(csr, supervisor):
    from orderdesk.sandbox import server

    order = make_order(status="ready_to_ship")
    authorization = authorize(order)
    authorization_void(authorization, reason="replaced by the customer's new authorization")
    # Captured before the worker came to the void, and recorded (as a webhook would).
    with transaction.atomic():
        from orderdesk.payments.services.holds import capture_record

        server.capture(
            reference=authorization.gateway_reference, amount=order.total, idempotency_key="c1"
        )
        authorization.refresh_from_db()
        capture_record(authorization, amount=order.total, reference="cap", key="c1")
    assert void_steps_deliver() == {StepStatus.CANCELLED: 1}
    step = GatewayStep.objects.get(kind="void")
    assert step.status == StepStatus.CANCELLED
    assert not SandboxTransaction.objects.filter(kind="void").exists()
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.CAPTURED == _ledger_hold(authorization)
    note = order.events.filter(kind=EventKind.NOTE).get()
    assert note.message == "Void not sent: the authorization is captured already"


def test_the_relay_wakes_a_void_whose_task_was_lost(supervisor):
    from orderdesk.payments.services import void_steps_relay

    authorization = authorize(make_order())
    authorization_void(authorization, reason="order cancelled")  # on_commit never runs here
    assert GatewayStep.objects.get().task_id == ""
    assert void_steps_relay() == 1
    assert GatewayStep.objects.get().task_id != ""


def test_the_authorization_machine_refuses_a_transition_not_in_its_table():
    authorization = authorize(make_order())
    authorization_transition(
        authorization, AuthorizationStatus.VOIDED, kind=EventKind.AUTHORIZATION_VOIDED, message="x"
    )
    with pytest.raises(TransitionNotAllowed):
        authorization_transition(
            authorization, AuthorizationStatus.AUTHORIZED, kind=EventKind.NOTE, message="revive"
        )
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.VOIDED


def test_the_step_machine_refuses_to_reopen_a_settled_step():
    authorization = authorize(make_order())
    authorization_void(authorization, reason="order cancelled")
    void_steps_deliver()
    step = GatewayStep.objects.get()
    assert step.status == StepStatus.SUCCEEDED
    with pytest.raises(TransitionNotAllowed):
        step_transition(step, StepStatus.PENDING)
    step.refresh_from_db()
    assert step.status == StepStatus.SUCCEEDED


def run_worker() -> None:
    """The worker over the queue of gateway steps until nothing is due (`orderdesk worker`)."""
    from django.core.management import call_command

    call_command(
        "db_worker",
        queue_name="default",
        batch=True,
        startup_delay=False,
        reload=False,
        verbosity=0,
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_a_void_that_met_a_5xx_until_the_gateway_confirms(supervisor):
    order = make_order()
    authorization = authorize(order)
    order_cancel(order=order, actor=supervisor)  # commits: the worker is woken
    with inject_faults(SERVER_ERROR, operation="void"):
        run_worker()
    step = GatewayStep.objects.get()
    assert (step.status, step.attempts) == (StepStatus.PENDING, 1)
    assert _ledger_hold(authorization) == "authorized"
    run_worker()  # too early: the retry waits for its time
    assert GatewayStep.objects.get().attempts == 1
    with time_machine.travel(step.next_attempt_at + timedelta(seconds=1)):
        run_worker()
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.VOIDED == _ledger_hold(authorization)
    assert GatewayStep.objects.get().status == StepStatus.SUCCEEDED
    assert SandboxTransaction.objects.filter(kind="void").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_workers_schedule_reconciles_a_void_whose_answer_was_lost(supervisor):
    from orderdesk.operations.maintenance import maintenance_run

    order = make_order()
    authorization = authorize(order)
    order_cancel(order=order, actor=supervisor)
    with inject_faults(TIMEOUT, operation="void"):
        run_worker()  # the sandbox voided; the answer was lost
    step = GatewayStep.objects.get()
    assert step.status == StepStatus.UNKNOWN
    with time_machine.travel(step.next_attempt_at + timedelta(seconds=1)):
        assert maintenance_run()["void_steps_reconcile"] == 1
    authorization.refresh_from_db()
    order.refresh_from_db()
    assert authorization.status == AuthorizationStatus.VOIDED == _ledger_hold(authorization)
    assert order.payment_state == payment_state_compute(order).state
    assert SandboxTransaction.objects.filter(kind="void").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_is_woken_only_when_the_deciding_transaction_commits(supervisor):
    from django_tasks_db.models import DBTaskResult

    authorization = authorize(make_order())
    with transaction.atomic():
        authorization_void(authorization, actor=supervisor, reason="order cancelled")
        assert not DBTaskResult.objects.filter(queue_name="default").exists()
    task = DBTaskResult.objects.get(queue_name="default")
    assert GatewayStep.objects.get().task_id == str(task.id)
    with pytest.raises(RuntimeError), transaction.atomic():
        authorization_void(authorize(make_order()), reason="rolled back")
        raise RuntimeError
    assert GatewayStep.objects.count() == DBTaskResult.objects.count() == 1


def test_a_void_refused_because_the_hold_lapsed_at_the_gateway_records_the_expiry(supervisor):
    order = make_order()
    authorization = authorize(order)
    order_cancel(order=order, actor=supervisor)
    SandboxTransaction.objects.filter(reference=authorization.gateway_reference).update(
        status="expired"
    )
    assert void_steps_deliver() == {StepStatus.FAILED: 1}
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.EXPIRED
    assert order.events.filter(kind=EventKind.AUTHORIZATION_EXPIRED).get().message == (
        "Authorization expired at the gateway"
    )
