"""/metrics: Prometheus text for staff or a bearer token, from a few aggregate queries."""

import pytest
from django.test import Client

from orderdesk.crm.services import crm_message_queue
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db


def sample(text: str, name: str) -> int:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


def test_metrics_count_orders_authorizations_and_backlog(settings, supervisor):
    settings.ORDERDESK_METRICS_TOKEN = "scrape-me"
    authorize(make_order())
    authorize(make_order(), DECLINE_CARD)
    make_order()
    crm_message_queue(topic="order.replaced", payload={}, dedupe_key="m1")
    response = Client().get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
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


def test_metrics_need_staff_or_the_token(settings, csr, django_assert_max_num_queries):
    settings.ORDERDESK_METRICS_TOKEN = "scrape-me"
    assert Client().get("/metrics").status_code == 401
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    staff = Client()
    staff.force_login(csr)
    with django_assert_max_num_queries(10):
        assert staff.get("/metrics").status_code == 200


def test_without_a_token_configured_bearer_requests_are_refused(settings):
    settings.ORDERDESK_METRICS_TOKEN = ""
    response = Client().get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 401
