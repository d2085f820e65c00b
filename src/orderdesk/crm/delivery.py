"""Deliver CRM outbox messages exactly once through the configured adapter, with retries.

A delivery claims the message under a row lock (status pending, no live claim, due), calls
the CRM outside any transaction, then records the outcome under the lock again. The claim
is a lease: with it a follow-up task is queued for when the lease ends, so a worker that
dies mid-call does not strand the message; a follow-up that finds the message delivered,
claimed or not yet due does nothing. Failures are retried with exponential backoff by
re-enqueuing the task with `run_after`, up to ORDERDESK_CRM_MAX_ATTEMPTS.

An order's messages go out one at a time, oldest first: a message waits while an older
one of the same order is pending, and each settled message wakes the next (crm.sync).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_one
from orderdesk.common.outbox import rows_relay, task_wake
from orderdesk.common.retry import backoff
from orderdesk.crm.adapters import CrmDeliveryError, Delivered, adapter_get
from orderdesk.crm.models import CrmMessage, CrmMessageStatus
from orderdesk.crm.sync import sync_prepare, sync_settle

logger = logging.getLogger("orderdesk.crm")

LEASE = timedelta(minutes=5)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min… (ORDERDESK_CRM_RETRY_SECONDS doubling), at most 6 hours."""
    return backoff(attempts, first_seconds=settings.ORDERDESK_CRM_RETRY_SECONDS)


def crm_message_send(message_id: int) -> str:
    message = _claim(message_id)
    if message is None:
        return "skipped"
    try:
        adapter = adapter_get()
        delivered = adapter.deliver(message)
    except CrmDeliveryError as error:
        return _failed(message_id, error.reason, retryable=error.retryable)
    except Exception as error:  # an adapter bug must not strand the message: retry, logged
        logger.exception("CRM delivery of message %s crashed", message_id)
        return _failed(message_id, f"{error.__class__.__name__}: {error}", retryable=True)
    return _delivered(message_id, delivered, adapter.name)


def _enqueue_later(message_id: int, delay: timedelta) -> str:
    """Queue the next delivery; the task's id, to keep on the row ("" when run at once)."""
    from orderdesk.crm.tasks import crm_message_deliver

    if crm_message_deliver.get_backend().supports_defer:
        return task_wake(crm_message_deliver, run_after=now() + delay, message_id=message_id)
    # A backend without deferral (immediate): run it again now.
    transaction.on_commit(lambda: crm_message_deliver.enqueue(message_id=message_id))
    return ""


def crm_messages_relay(*, limit: int = 500) -> int:
    """Wake every due message whose delivery task is missing, failed or stale (the worker's
    schedule runs this), so a killed worker strands nothing. Returns how many."""
    from orderdesk.crm.tasks import crm_message_deliver

    moment = now()
    older = CrmMessage.objects.filter(
        order_id=OuterRef("order_id"), status=CrmMessageStatus.PENDING, pk__lt=OuterRef("pk")
    )
    due = (
        CrmMessage.objects.filter(status=CrmMessageStatus.PENDING)
        .exclude(next_attempt_at__gt=moment)
        .exclude(claimed_until__gt=moment)
        .exclude(Exists(older))  # woken by the older one when it is settled
    )
    return rows_relay(
        due,
        crm_message_deliver,
        argument="message_id",
        moment=moment,
        limit=limit,
        log=lambda row, task: logger.warning(
            "CRM message %s relayed: its task %s was lost", row, task or "-"
        ),
    )


@transaction.atomic
def _claim(message_id: int) -> CrmMessage | None:
    message = lock_one(CrmMessage.objects, pk=message_id)
    moment = now()
    if message.status != CrmMessageStatus.PENDING:
        return None
    if message.claimed_until and message.claimed_until > moment:
        return None  # another worker is delivering it
    if message.next_attempt_at and message.next_attempt_at > moment:
        return None  # an earlier attempt failed; its retry is queued for later
    if _waits_behind(message):
        return None  # the older message of the order wakes this one when it is settled
    if message.is_sync and not sync_prepare(message):
        _superseded(message, "the CRM has this picture of the order already")
        return None
    message.attempts += 1
    message.claimed_until = moment + LEASE
    if crm_message_deliver_defers():
        message.task_id = _enqueue_later(message_id, LEASE + timedelta(seconds=1))
    fields = ["attempts", "claimed_until", "task_id", "topic", "version", "payload"]
    message.save(update_fields=fields)
    return message


def _waits_behind(message: CrmMessage) -> bool:
    if message.order_id is None:
        return False
    return CrmMessage.objects.filter(
        order_id=message.order_id, status=CrmMessageStatus.PENDING, pk__lt=message.pk
    ).exists()


def _superseded(message: CrmMessage, note: str) -> None:
    message.status = CrmMessageStatus.SUPERSEDED
    message.note = note
    message.save(update_fields=["status", "note"])
    _order_next_wake(message.order_id)


def _order_next_wake(order_id: int | None) -> None:
    """Wake the order's oldest pending message, unless its retry is queued for later."""
    from orderdesk.crm.tasks import crm_message_deliver

    if order_id is None:
        return
    following = (
        CrmMessage.objects.filter(order_id=order_id, status=CrmMessageStatus.PENDING)
        .order_by("pk")
        .first()
    )
    if following is None or (following.next_attempt_at and following.next_attempt_at > now()):
        return
    following.task_id = task_wake(crm_message_deliver, message_id=following.pk)
    CrmMessage.objects.filter(pk=following.pk).update(task_id=following.task_id)


def crm_message_deliver_defers() -> bool:
    from orderdesk.crm.tasks import crm_message_deliver

    return crm_message_deliver.get_backend().supports_defer


@transaction.atomic
def _delivered(message_id: int, delivered: Delivered, adapter_name: str) -> str:
    from orderdesk.orders.events import event_record
    from orderdesk.orders.models import EventKind
    from orderdesk.orders.services import order_crm_id_record

    message = lock_one(CrmMessage.objects, pk=message_id)
    message.status = CrmMessageStatus.DELIVERED
    message.delivered_at = now()
    message.remote_id = delivered.remote_id[:100]
    message.last_error = ""
    message.claimed_until = None
    message.note = delivered.note[:300]
    message.save()
    for number, crm_id in delivered.record_ids:
        order_crm_id_record(number=number, crm_id=crm_id)
    _order_next_wake(message.order_id)
    if message.is_sync:
        sync_settle(message, delivered=True)
    if message.order is not None:
        event_record(
            message.order,
            EventKind.CRM_SYNCED,
            f"CRM synced ({adapter_name}): {_described(message)}",
            actor_label="worker",
            details={
                "message": message.pk,
                "remote_id": delivered.remote_id,
                "note": delivered.note,
            },
            defer_last_action=True,  # the last action stays what a person or payment did
        )
    return "delivered"


def _described(message: CrmMessage) -> str:
    if message.is_sync:
        changed = ", ".join(message.payload.get("changed", [])) or "no field"
        return f"{message.topic} v{message.version} ({changed})"
    return message.topic


@transaction.atomic
def _failed(message_id: int, reason: str, *, retryable: bool) -> str:
    from orderdesk.orders.events import event_record
    from orderdesk.orders.models import EventKind

    message = lock_one(CrmMessage.objects, pk=message_id)
    message.last_error = reason[:500]
    message.claimed_until = None
    if retryable and message.attempts < settings.ORDERDESK_CRM_MAX_ATTEMPTS:
        delay = retry_delay(message.attempts)
        message.next_attempt_at = now() + delay
        message.task_id = _enqueue_later(message_id, delay) or message.task_id
        message.save(update_fields=["last_error", "claimed_until", "next_attempt_at", "task_id"])
        logger.warning("CRM message %s failed (%s); retry in %s", message_id, reason, delay)
        return "retrying"
    message.status = CrmMessageStatus.FAILED
    message.save(update_fields=["last_error", "claimed_until", "status"])
    _order_next_wake(message.order_id)
    if message.is_sync:
        sync_settle(message, delivered=False)
    if message.order is not None:
        event_record(
            message.order,
            EventKind.CRM_FAILED,
            f"CRM sync failed after {message.attempts} attempt(s): {reason}"[:500],
            actor_label="worker",
            details={"message": message.pk, "topic": message.topic},
            defer_last_action=True,
        )
    logger.error(
        "CRM message %s gave up after %s attempts: %s", message_id, message.attempts, reason
    )
    return "failed"
