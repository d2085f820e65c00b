"""The prepared one-row UPDATEs write what QuerySet.update() and save(update_fields) write."""

from datetime import timedelta

import pytest
from django.db.models import F

from orderdesk.common.clock import now
from orderdesk.common.locks import lock_columns, lock_with_related
from orderdesk.common.updates import instance_update, row_update
from orderdesk.orders.models import Order
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_a_compare_and_set_writes_only_when_the_row_holds_the_expected_values():
    order = make_order()
    assert row_update(Order, order.pk, {"last_action": "a"}, expected={"status": "cancelled"}) == 0
    assert row_update(Order, order.pk, {"last_action": "b"}, expected={"status": order.status}) == 1
    assert row_update(Order, order.pk, {"last_action": "c"}, expected={"crm_id": None}) == 0
    order.refresh_from_db()
    assert order.last_action == "b"


def test_values_are_prepared_as_the_orm_prepares_them():
    order, moment = make_order(), now() - timedelta(days=3)
    other = make_order()
    row_update(Order, order.pk, {"last_action_at": moment, "supersedes": other})
    order.refresh_from_db()
    assert (order.last_action_at, order.supersedes_id) == (moment, other.pk)


def test_an_expression_is_refused_rather_than_written_as_a_value():
    order = make_order()
    with pytest.raises(TypeError):
        row_update(Order, order.pk, {"total": F("total") + 1})


def test_an_instance_update_takes_the_time_of_auto_now_columns():
    order = make_order()
    before = Order.objects.values_list("updated_at", flat=True).get(pk=order.pk)
    order.last_action = "written"
    instance_update(order, ("last_action", "updated_at"))
    order.refresh_from_db()
    assert order.last_action == "written" and order.updated_at > before


def test_locked_reads_load_the_named_columns_converted_and_defer_the_rest():
    order = make_order()
    locked = lock_columns(Order, order.pk, ("status", "created_at"))
    assert (locked.status, locked.created_at) == (order.status, order.created_at)
    assert locked.get_deferred_fields() >= {"total", "number"}
    assert locked.total == order.total  # a deferred column still loads when read


def test_a_row_locked_with_its_related_row_reads_every_column_and_the_named_related_ones():
    from orderdesk.orders.models import OrderEvent

    event = OrderEvent.objects.filter(order=make_order()).first()
    locked = lock_with_related(OrderEvent, event.pk, "order", ("number",))
    assert (locked.kind, locked.created_at, locked.details) == (
        event.kind,
        event.created_at,
        event.details,
    )
    assert locked.order.number == event.order.number
    assert "total" in locked.order.get_deferred_fields()
