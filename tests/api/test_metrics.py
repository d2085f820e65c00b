"""/metrics: Prometheus text for staff or a bearer token, from a few aggregate queries."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client

from orderdesk.common.clock import now
from orderdesk.common.sql import status_in
from orderdesk.crm.models import CrmMessage
from orderdesk.crm.selectors import crm_messages_open_counts
from orderdesk.crm.services import crm_message_queue
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.unpaid.counts import unpaid_counts
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db


def sample(text: str, name: str) -> int:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.rsplit(" ", 1)[1]))
    raise AssertionError(f"{name} not in metrics")


def test_metrics_count_orders_authorizations_and_backlog(settings, supervisor):
    settings.ORDERDESK_METRICS_TOKEN = "scrape-me"
    authorize(make_order())
    authorize(make_order(), DECLINE_CARD)
    make_order()
    crm_message_queue(topic="order.replaced", payload={}, dedupe_key="m1")
    response = Client().get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert sample(text, 'orderdesk_live_orders{payment_state="authorized"}') == 1
    assert sample(text, 'orderdesk_live_orders{payment_state="failed"}') == 1
    assert sample(text, 'orderdesk_unpaid_orders{group="failed"}') == 1
    assert sample(text, 'orderdesk_unpaid_orders{group="not_authorized"}') == 1
    assert sample(text, "orderdesk_authorizations_expiring_24h") == 0
    assert sample(text, "orderdesk_authorizations_unknown") == 0
    assert sample(text, 'orderdesk_crm_messages{status="pending"}') == 1
    assert sample(text, 'orderdesk_tasks_pending{queue="crm"}') == 1
    assert "# TYPE orderdesk_live_orders gauge" in text


def test_live_orders_are_counted_once_a_minute_and_say_when(settings):
    """Counting every live order costs more than the rest of a scrape: a count up to a
    minute old is served, with the time it was counted."""
    settings.ORDERDESK_METRICS_TOKEN = "scrape-me"
    authorize(make_order())
    client = Client(headers={"Authorization": "Bearer scrape-me"})
    first = client.get("/metrics").content.decode()
    counted_at = sample(first, "orderdesk_live_orders_as_of_timestamp_seconds")
    assert abs(counted_at - now().timestamp()) < 5
    authorize(make_order())
    again = client.get("/metrics").content.decode()
    assert sample(again, 'orderdesk_live_orders{payment_state="authorized"}') == 1
    assert sample(again, "orderdesk_live_orders_as_of_timestamp_seconds") == counted_at
    with time_machine.travel(now() + timedelta(seconds=61)):
        later = client.get("/metrics").content.decode()
    assert sample(later, 'orderdesk_live_orders{payment_state="authorized"}') == 2
    assert sample(later, "orderdesk_live_orders_as_of_timestamp_seconds") > counted_at


def test_a_hold_decided_released_shows_until_the_gateway_confirms(settings, supervisor):
    from orderdesk.payments.services import void_steps_deliver
    from orderdesk.workflows.cancellation import order_cancel

    order = make_order()
    authorize(order)
    order_cancel(order=order, actor=supervisor)
    client = Client()
    client.force_login(supervisor)
    text = client.get("/metrics").content.decode()
    assert sample(text, "orderdesk_holds_awaiting_release") == 1
    assert sample(text, 'orderdesk_gateway_steps_stuck{kind="void",state="unknown"}') == 0
    with time_machine.travel(now() + timedelta(seconds=settings.ORDERDESK_TASK_STALE_SECONDS + 1)):
        text = client.get("/metrics").content.decode()
        assert sample(text, 'orderdesk_gateway_steps_stuck{kind="void",state="overdue"}') == 1
    void_steps_deliver()
    text = client.get("/metrics").content.decode()
    assert sample(text, "orderdesk_holds_awaiting_release") == 0


def test_metrics_need_staff_or_the_token(settings, csr, django_assert_max_num_queries):
    settings.ORDERDESK_METRICS_TOKEN = "scrape-me"
    assert Client().get("/metrics").status_code == 401
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    staff = Client()
    staff.force_login(csr)
    # The first scrape of a minute also counts every live order and keeps the count.
    assert staff.get("/metrics").status_code == 200
    # Then one aggregate query per figure, the outbox overdue counts, stale tasks, holds
    # awaiting release, unrecorded browser holds and stuck gateway steps included.
    with django_assert_max_num_queries(16):
        assert staff.get("/metrics").status_code == 200


def test_without_a_token_configured_bearer_requests_are_refused(settings):
    settings.ORDERDESK_METRICS_TOKEN = ""
    response = Client().get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 401


def test_metrics_unpaid_groups_are_the_dashboards_counts(settings):
    """An authorization that lapsed before the sweep ran is already expired on the panel;
    /metrics says the same, and counts the payments' live authorizations expiring today."""
    settings.ORDERDESK_METRICS_TOKEN = "scrape-me"
    lapsing, soon = make_order(), make_order()
    authorize(lapsing)
    with time_machine.travel(now() - timedelta(days=28, hours=12)):
        authorize(soon)  # expires in 12 hours
    with time_machine.travel(now() + timedelta(days=29, seconds=1)):  # the sweep has not run
        expected = unpaid_counts(user=None)
        text = Client().get("/metrics", headers={"Authorization": "Bearer scrape-me"}).content
    text = text.decode()
    assert expected["expired"] == 2
    for group, count in expected.items():
        assert sample(text, f'orderdesk_unpaid_orders{{group="{group}"}}') == count


def test_metrics_expiring_counts_live_authorizations_within_24_hours(settings):
    settings.ORDERDESK_METRICS_TOKEN = "scrape-me"
    order = make_order()
    with time_machine.travel(now() - timedelta(days=28, hours=12)):
        authorize(order)
    text = Client().get("/metrics", headers={"Authorization": "Bearer scrape-me"}).content
    assert sample(text.decode(), "orderdesk_authorizations_expiring_24h") == 1


def test_unknown_authorizations_are_read_from_their_partial_index():
    """Reconciliation and /metrics read the few unknown outcomes, not every authorization."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL picks its plan from table statistics")
    unknown = Authorization.objects.filter(status_in([AuthorizationStatus.UNKNOWN]))
    sql, params = unknown.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "authorization_unknown" in plan


def test_crm_messages_count_only_open_ones_retrying_apart(settings, supervisor):
    settings.ORDERDESK_METRICS_TOKEN = "scrape-me"
    for key, status, error in (
        ("waiting", "pending", ""),
        ("retrying", "pending", "503 from the CRM"),
        ("given-up", "failed", "400 from the CRM"),
        ("sent", "delivered", ""),
        ("old", "superseded", "400"),
    ):
        message = crm_message_queue(topic="order.replaced", payload={}, dedupe_key=key)
        CrmMessage.objects.filter(pk=message.pk).update(status=status, last_error=error)
    text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").content.decode()
    assert sample(text, 'orderdesk_crm_messages{status="pending"}') == 2
    assert sample(text, 'orderdesk_crm_messages{status="retrying"}') == 1
    assert sample(text, 'orderdesk_crm_messages{status="failed"}') == 1
    assert 'status="delivered"' not in text and 'status="superseded"' not in text


def test_crm_message_counts_are_read_from_the_open_messages_index(django_assert_num_queries):
    """One query, through the partial index: the delivered rows (one per picture sent, a
    million at a million orders) are never read."""
    with django_assert_num_queries(1) as captured:
        crm_messages_open_counts()
    sql = captured.captured_queries[0]["sql"]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        else:  # PostgreSQL plans a tiny table by its statistics: is the index usable at all?
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "crm_message_open" in plan
