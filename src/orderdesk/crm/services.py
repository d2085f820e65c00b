"""Queue messages for the CRM. Delivery (adapters, retries) lives in crm.delivery."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from orderdesk.common.outbox import task_wake
from orderdesk.crm.models import CrmMessage


def crm_message_queue(*, topic: str, payload: dict, dedupe_key: str, order=None) -> CrmMessage:
    """Write the message in the caller's transaction and enqueue its delivery with it.

    The same `dedupe_key` never queues a second message, so an event is sent once.
    """
    from orderdesk.crm.tasks import crm_message_deliver

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
