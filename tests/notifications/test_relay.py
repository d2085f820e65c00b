"""Outbox rows are the truth: the relay wakes a due row whose task is missing, failed or stale."""

from datetime import timedelta

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from orderdesk.api.metrics import metrics_collect
from orderdesk.common.clock import now
from orderdesk.crm.delivery import crm_messages_relay
from orderdesk.crm.models import CrmMessage
from orderdesk.notifications.models import OutboundEmail
from orderdesk.notifications.services import emails_relay
from tests.factories import make_order
from tests.notifications.test_delivery import queue

pytestmark = pytest.mark.django_db


def tasks_for(email):
    return DBTaskResult.objects.filter(args_kwargs__kwargs__email_id=email.pk)


def test_a_queued_email_keeps_the_id_of_its_task(db):
    email = queue(make_order())
    email.refresh_from_db()
    assert email.task_id == str(tasks_for(email).get().pk)


def test_the_relay_leaves_an_email_whose_task_waits_in_the_queue(db):
    email = queue(make_order())
    assert emails_relay() == 0
    assert tasks_for(email).count() == 1


def test_the_relay_wakes_an_email_whose_task_went_missing(db):
    email = queue(make_order())
    tasks_for(email).delete()
    assert emails_relay() == 1
    task = tasks_for(email).get()
    email.refresh_from_db()
    assert (email.task_id, task.status) == (str(task.pk), "READY")


def test_the_relay_wakes_an_email_whose_task_failed(db):
    email = queue(make_order())
    tasks_for(email).update(status="FAILED")
    assert emails_relay() == 1
    assert tasks_for(email).filter(status="READY").count() == 1


def test_the_relay_wakes_an_email_whose_worker_died_mid_task(db, settings):
    settings.ORDERDESK_TASK_STALE_SECONDS = 600
    email = queue(make_order())
    tasks_for(email).update(status="RUNNING", started_at=now())
    assert emails_relay() == 0  # still running: its worker may be mid-delivery
    with time_machine.travel(now() + timedelta(seconds=601)):
        assert emails_relay() == 1
    assert tasks_for(email).filter(status="READY").count() == 1


def test_the_relay_leaves_an_email_waiting_for_its_retry(db):
    email = queue(make_order())
    tasks_for(email).delete()
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=now() + timedelta(minutes=5))
    assert emails_relay() == 0


def test_the_relay_wakes_a_crm_message_whose_task_went_missing(replaced_message):
    DBTaskResult.objects.filter(args_kwargs__kwargs__message_id=replaced_message.pk).delete()
    assert crm_messages_relay() == 1
    replaced_message.refresh_from_db()
    assert DBTaskResult.objects.get(pk=replaced_message.task_id).status == "READY"


def test_the_relay_leaves_a_crm_message_another_worker_has_claimed(replaced_message):
    DBTaskResult.objects.filter(args_kwargs__kwargs__message_id=replaced_message.pk).delete()
    CrmMessage.objects.filter(pk=replaced_message.pk).update(
        claimed_until=now() + timedelta(minutes=1)
    )
    assert crm_messages_relay() == 0


def metric(name, label):
    for line in metrics_collect().decode().splitlines():
        if line.startswith(f"{name}{{{label}}}") or line.startswith(f"{name} ") and not label:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {label} missing")


def test_metrics_show_stuck_outbox_rows_and_stale_tasks(db, settings):
    settings.ORDERDESK_TASK_STALE_SECONDS = 600
    email = queue(make_order())
    tasks_for(email).update(status="RUNNING", started_at=now())
    assert metric("orderdesk_outbox_overdue", 'outbox="email"') == 0
    assert metric("orderdesk_tasks_stale", "") == 0
    with time_machine.travel(now() + timedelta(seconds=601)):
        assert metric("orderdesk_outbox_overdue", 'outbox="email"') == 1
        assert metric("orderdesk_tasks_stale", "") == 1
