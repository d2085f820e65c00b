"""Delivering the CRM outbox: exactly once, retried with backoff, given up after N attempts."""

from datetime import timedelta

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from orderdesk.common.clock import now
from orderdesk.crm.delivery import crm_message_send, retry_delay
from orderdesk.crm.models import CrmMessage, CrmMessageStatus
from orderdesk.orders.models import EventKind

pytestmark = pytest.mark.django_db


def deferred_runs(message):
    return sorted(
        task.run_after
        for task in DBTaskResult.objects.filter(task_path__endswith="crm_message_deliver")
        if task.args_kwargs["kwargs"] == {"message_id": message.pk}
        and task.run_after.year < 9999  # the queue stores "no time" as year 9999
    )


def test_queueing_enqueues_one_delivery_task_in_the_same_transaction(replaced_message):
    tasks = DBTaskResult.objects.filter(task_path__endswith="crm_message_deliver")
    assert tasks.count() == 1
    assert tasks.get().args_kwargs["kwargs"] == {"message_id": replaced_message.pk}


def test_without_a_crm_the_message_is_marked_delivered_locally_with_a_note(
    replaced_message, settings
):
    settings.ORDERDESK_CRM = "none"
    assert crm_message_send(replaced_message.pk) == "delivered"
    replaced_message.refresh_from_db()
    assert replaced_message.status == CrmMessageStatus.DELIVERED
    assert replaced_message.attempts == 1
    assert "no CRM configured" in replaced_message.note
    synced = replaced_message.order.events.get(kind=EventKind.CRM_SYNCED)
    assert "order.replaced" in synced.message


def test_a_delivered_message_is_never_sent_again(replaced_message, settings):
    settings.ORDERDESK_CRM = "none"
    crm_message_send(replaced_message.pk)
    assert crm_message_send(replaced_message.pk) == "skipped"
    replaced_message.refresh_from_db()
    assert replaced_message.attempts == 1
    assert replaced_message.order.events.filter(kind=EventKind.CRM_SYNCED).count() == 1


def test_a_message_claimed_by_another_worker_is_left_to_it(replaced_message, settings):
    settings.ORDERDESK_CRM = "none"
    CrmMessage.objects.filter(pk=replaced_message.pk).update(
        claimed_until=now() + timedelta(minutes=1)
    )
    assert crm_message_send(replaced_message.pk) == "skipped"
    replaced_message.refresh_from_db()
    assert replaced_message.status == CrmMessageStatus.PENDING
    assert replaced_message.attempts == 0


def test_a_claim_abandoned_by_a_dead_worker_is_taken_over_after_its_lease(
    replaced_message, settings
):
    settings.ORDERDESK_CRM = "none"
    CrmMessage.objects.filter(pk=replaced_message.pk).update(
        claimed_until=now() - timedelta(seconds=1), attempts=1
    )
    assert crm_message_send(replaced_message.pk) == "delivered"


def test_each_claim_queues_a_follow_up_for_when_its_lease_ends(replaced_message, settings):
    settings.ORDERDESK_CRM = "none"
    with time_machine.travel("2026-03-01 12:00:00+00:00", tick=False):
        crm_message_send(replaced_message.pk)
        assert deferred_runs(replaced_message) == [now() + timedelta(minutes=5, seconds=1)]


def test_failures_are_retried_with_growing_delays_then_given_up(replaced_message, settings):
    settings.ORDERDESK_CRM = "webhook"
    settings.ORDERDESK_CRM_WEBHOOK_URL = "http://127.0.0.1:9/unreachable"
    settings.ORDERDESK_CRM_WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    settings.ORDERDESK_CRM_MAX_ATTEMPTS = 3
    settings.ORDERDESK_CRM_RETRY_SECONDS = 30
    start = now()
    with time_machine.travel(start, tick=False) as traveller:
        assert crm_message_send(replaced_message.pk) == "retrying"
        replaced_message.refresh_from_db()
        assert replaced_message.next_attempt_at == start + timedelta(seconds=30)
        assert start + timedelta(seconds=30) in deferred_runs(replaced_message)
        # Not due yet: an early run (the lease follow-up, say) leaves it alone.
        assert crm_message_send(replaced_message.pk) == "skipped"
        traveller.shift(timedelta(seconds=30))
        assert crm_message_send(replaced_message.pk) == "retrying"
        replaced_message.refresh_from_db()
        assert replaced_message.next_attempt_at == now() + timedelta(seconds=60)
        traveller.shift(timedelta(seconds=60))
        assert crm_message_send(replaced_message.pk) == "failed"
    replaced_message.refresh_from_db()
    assert replaced_message.status == CrmMessageStatus.FAILED
    assert replaced_message.attempts == 3
    assert "not reached" in replaced_message.last_error
    failed = replaced_message.order.events.get(kind=EventKind.CRM_FAILED)
    assert "after 3 attempt(s)" in failed.message
    assert not replaced_message.order.events.filter(kind=EventKind.CRM_SYNCED).exists()
    assert crm_message_send(replaced_message.pk) == "skipped"


def test_a_misconfigured_crm_fails_at_once_without_retrying(replaced_message, settings):
    settings.ORDERDESK_CRM = "webhook"
    settings.ORDERDESK_CRM_WEBHOOK_URL = ""
    assert crm_message_send(replaced_message.pk) == "failed"
    replaced_message.refresh_from_db()
    assert replaced_message.attempts == 1
    assert "ORDERDESK_CRM_WEBHOOK_URL" in replaced_message.last_error


def test_an_unknown_adapter_name_fails_the_message_with_the_reason(replaced_message, settings):
    settings.ORDERDESK_CRM = "hubspot"
    assert crm_message_send(replaced_message.pk) == "failed"
    replaced_message.refresh_from_db()
    assert "not one of" in replaced_message.last_error


def test_backoff_doubles_and_is_capped(settings):
    settings.ORDERDESK_CRM_RETRY_SECONDS = 30
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(40) == timedelta(hours=6)


def test_the_worker_task_delivers_through_the_same_function(replaced_message, settings):
    from orderdesk.crm.tasks import crm_message_deliver

    settings.ORDERDESK_CRM = "none"
    assert crm_message_deliver.call(message_id=replaced_message.pk) == "delivered"
