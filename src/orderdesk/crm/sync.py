"""Keeping the CRM's picture of every order current.

`orders` and `payments` cannot import the CRM (it is a floor above them), so they only add
one to `Order.crm_version` in the UPDATE that makes a change the CRM should hear of: work
status (shipped and cancelled included), estimated delivery date, payment state, expiry or
amount; a new order starts one behind. The CRM side:

- the relay (every ORDERDESK_CRM_SYNC_INTERVAL_SECONDS on the worker) reads the orders
  whose `crm_version` is ahead of `crm_settled_version` from a partial index holding only
  those, and queues one sync message for each that has none waiting;
- a sync takes the order's picture when a worker claims it, not when it was queued, so
  every change that waited goes in one message (`version` is the `crm_version` it covers;
  its event id is the order and that version, so a receiver drops a repeat of the same
  picture and never a newer one);
- messages of one order go out one at a time, oldest first (crm.delivery), so a receiver
  sees an order's changes in order; after a delivery, changes made meanwhile are queued at
  once;
- delivered or given up, the version is settled on the order; a given-up sync waits on the
  supervisors' CRM screen, and any later delivered sync of the order supersedes it.
"""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef

from orderdesk.common.outbox import task_wake
from orderdesk.crm.models import (
    SYNC_CREATED,
    SYNC_TOPICS,
    SYNC_UPDATED,
    CrmMessage,
    CrmMessageStatus,
)
from orderdesk.crm.snapshot import order_snapshot, snapshot_changes
from orderdesk.orders.models import Order
from orderdesk.orders.services import order_crm_settle

logger = logging.getLogger("orderdesk.crm")


def waiting_sync(order_id: int) -> CrmMessage | None:
    return CrmMessage.objects.filter(
        order_id=order_id, topic__in=SYNC_TOPICS, status=CrmMessageStatus.PENDING
    ).first()


def crm_sync_queue(*, order_id: int) -> CrmMessage:
    """The order's waiting sync: an existing one (it will send the latest picture), or a
    new one written and woken in the caller's transaction."""
    from orderdesk.crm.tasks import crm_message_deliver

    waiting = waiting_sync(order_id)
    if waiting is not None:
        return waiting
    try:
        with transaction.atomic():
            message = CrmMessage.objects.create(
                topic=SYNC_UPDATED,  # or SYNC_CREATED: decided with the picture, at the claim
                order_id=order_id,
                dedupe_key=f"order.sync:{order_id}:{uuid.uuid4().hex}",
            )
    except IntegrityError:  # queued by another process just now (one waiting per order)
        return waiting_sync(order_id)
    message.task_id = task_wake(crm_message_deliver, message_id=message.pk)
    CrmMessage.objects.filter(pk=message.pk).update(task_id=message.task_id)
    return message


def crm_syncs_relay(*, limit: int = 500) -> int:
    """Queue a sync for every order with changes the CRM has not heard of and no sync
    waiting; returns how many were queued."""
    waiting = CrmMessage.objects.filter(
        order_id=OuterRef("pk"), topic__in=SYNC_TOPICS, status=CrmMessageStatus.PENDING
    )
    behind = (
        Order.objects.filter(crm_version__gt=F("crm_settled_version"))
        .exclude(Exists(waiting))
        .order_by()
        .values_list("pk", flat=True)[:limit]
    )
    queued = 0
    for order_id in list(behind):
        with transaction.atomic():
            crm_sync_queue(order_id=order_id)
        queued += 1
    return queued


def _last_delivered(order_id: int) -> CrmMessage | None:
    return (
        CrmMessage.objects.filter(
            order_id=order_id, topic__in=SYNC_TOPICS, status=CrmMessageStatus.DELIVERED
        )
        .order_by("-version", "-pk")
        .first()
    )


def sync_prepare(message: CrmMessage) -> bool:
    """At the claim: take the order's picture into the message (topic, version, payload).
    False when the CRM already has this picture: the caller supersedes the message."""
    # The version first, then the picture: a change committed in between is then sent
    # early under the older version (and again under its own), never lost.
    version = Order.objects.filter(pk=message.order_id).values_list("crm_version", flat=True)
    version = version.first()
    if version is None:
        return False
    previous = _last_delivered(message.order_id)
    picture = order_snapshot(message.order_id)
    changed = snapshot_changes(previous.payload if previous else None, picture)
    if previous is not None and (previous.version >= version or not changed):
        order_crm_settle(order_id=message.order_id, version=version)
        return False
    message.topic = SYNC_UPDATED if previous else SYNC_CREATED
    message.version = version
    message.payload = {**picture, "version": version, "changed": changed}
    return True


def sync_settle(message: CrmMessage, *, delivered: bool) -> None:
    """After the last attempt of a sync (in the caller's transaction): settle its version;
    when delivered, supersede the order's given-up syncs and queue the changes made while
    it was on its way."""
    order_crm_settle(order_id=message.order_id, version=message.version)
    if not delivered:
        return
    CrmMessage.objects.filter(
        order_id=message.order_id, topic__in=SYNC_TOPICS, status=CrmMessageStatus.FAILED
    ).update(status=CrmMessageStatus.SUPERSEDED, note=f"superseded by message {message.pk}")
    ahead = Order.objects.filter(pk=message.order_id, crm_version__gt=message.version)
    if ahead.exists():
        crm_sync_queue(order_id=message.order_id)
