"""Writing the order timeline. Every service that changes an order records one row here."""

from __future__ import annotations

from functools import cache

from django.db import connection

from orderdesk.common.clock import now
from orderdesk.orders.models import EventKind, Order, OrderEvent

LAST_ACTION_FIELDS = ("last_action", "last_action_at")


def event_record(
    order: Order,
    kind: str,
    message: str = "",
    *,
    actor=None,
    actor_label: str = "",
    details: dict | None = None,
    defer_last_action: bool = False,
) -> OrderEvent:
    """Append a row to the order's timeline and make it the order's last action.

    With `defer_last_action` the last action is only set on the instance: the caller writes
    it in the same transaction with the order's other columns (see `LAST_ACTION_FIELDS`),
    so that a service recording several rows updates the order once.
    """
    moment = now()
    text = message or EventKind(kind).label
    event = OrderEvent(
        order=order,
        kind=kind,
        message=text[:500],
        details=details or {},
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label or ("" if getattr(actor, "pk", None) else "system"),
        created_at=moment,
    )
    _event_insert(event)
    # The dashboard shows the last action without reading the timeline.
    order.last_action, order.last_action_at = text[:200], moment
    if not defer_last_action:
        Order.objects.filter(pk=order.pk).update(last_action=text[:200], last_action_at=moment)
    return event


def _event_insert(event: OrderEvent) -> None:
    """The same INSERT as `event.save()`, its values prepared by the fields themselves, in
    one statement whose text is built once: compiling it through the ORM cost more than
    running it, and an approval writes three."""
    if not connection.features.can_return_columns_from_insert:
        event.save(force_insert=True)
        return
    fields = _event_fields()
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.ops.quote_name), values)
        event.pk = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, connection.alias


@cache
def _event_fields() -> tuple:
    """The timeline row's columns, in the order of the INSERT below."""
    return tuple(field for field in OrderEvent._meta.concrete_fields if not field.primary_key)


@cache
def _insert_sql(quote) -> str:
    columns = ", ".join(quote(field.column) for field in _event_fields())
    marks = ", ".join(["%s"] * len(_event_fields()))
    table, pk = quote(OrderEvent._meta.db_table), quote(OrderEvent._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608 (names from the model)
