"""Queue messages for the CRM, and retry one that failed. Delivery (adapters, retries)
lives in crm.delivery; keeping every order's picture current in crm.sync."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F

from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.locks import lock_one
from orderdesk.common.outbox import task_wake
from orderdesk.common.people import display_name
from orderdesk.common.permissions import require
from orderdesk.crm.models import CrmMessage, CrmMessageStatus
from orderdesk.crm.sync import crm_sync_queue, waiting_sync
from orderdesk.orders.models import Order

logger = logging.getLogger("orderdesk.crm")
RETRY_PERMISSION = "crm.retry_crmmessage"


def crm_message_queue(*, topic: str, payload: dict, dedupe_key: str, order=None) -> CrmMessage:
    """Write the message in the caller's transaction and enqueue its delivery with it.

    The same `dedupe_key` never queues a second message, so an event is sent once. The
    order (and the one it replaces) send their changes first when the CRM has not heard
    of them: a receiver meets a new order before the message that links it.
    """
    from orderdesk.crm.tasks import crm_message_deliver

    if order is not None:
        _pictures_first(order)
    try:
        with transaction.atomic():
            message = CrmMessage.objects.create(
                topic=topic, payload=payload, dedupe_key=dedupe_key, order=order
            )
    except IntegrityError:
        return CrmMessage.objects.get(dedupe_key=dedupe_key)
    message.task_id = task_wake(crm_message_deliver, message_id=message.pk)
    CrmMessage.objects.filter(pk=message.pk).update(task_id=message.task_id)
    return message


def _pictures_first(order: Order) -> None:
    behind = Order.objects.filter(crm_version__gt=F("crm_settled_version")).filter(
        pk__in=[pk for pk in (order.pk, order.supersedes_id) if pk]
    )
    for order_id in behind.order_by("pk").values_list("pk", flat=True):
        crm_sync_queue(order_id=order_id)


@transaction.atomic
def crm_message_retry(*, message_id: int, actor) -> CrmMessage:
    """Send a failed (or still retrying) message again now, with a fresh set of attempts.

    A given-up sync whose order has a newer sync waiting is superseded by it, and that one
    is sent now instead: it carries the order's latest picture.
    """
    require(actor, RETRY_PERMISSION)
    message = lock_one(CrmMessage.objects, pk=message_id)
    if message.status not in (CrmMessageStatus.FAILED, CrmMessageStatus.PENDING):
        raise BusinessRuleError(
            f"This message is {message.get_status_display().lower()}: there is nothing to retry."
        )
    who = display_name(actor)
    waiting = waiting_sync(message.order_id) if message.is_sync else None
    if waiting is not None and waiting.pk != message.pk:
        message.status = CrmMessageStatus.SUPERSEDED
        message.note = f"retried by {who} through message {waiting.pk}"
        message.save(update_fields=["status", "note"])
        message = lock_one(CrmMessage.objects, pk=waiting.pk)
    _wake_now(message, note=f"retry requested by {who}")
    _retry_record(message, actor)
    logger.info("CRM message %s retried by %s", message.pk, who)
    return message


def _retry_record(message: CrmMessage, actor) -> None:
    """A supervisor's retry goes on the order's timeline (and so the audit screen and its
    export); a timeline kind of its own would need a migration of orders, so it is a note
    whose details name the message."""
    from orderdesk.orders.events import event_record
    from orderdesk.orders.models import EventKind

    order = Order.objects.filter(pk=message.order_id).first() if message.order_id else None
    if order is None:
        return
    event_record(
        order,
        EventKind.NOTE,
        f"CRM message {message.topic} sent again now (retry by a supervisor)",
        actor=actor,
        details={"crm_message": message.pk, "action": "crm_retry"},
        defer_last_action=True,  # as the CRM's own rows: the order's last action stays
    )


def _wake_now(message: CrmMessage, *, note: str) -> None:
    from orderdesk.crm.tasks import crm_message_deliver

    message.status = CrmMessageStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = None
    message.note = note[:300]
    message.task_id = task_wake(crm_message_deliver, message_id=message.pk)
    message.save(update_fields=["status", "attempts", "next_attempt_at", "note", "task_id"])
