"""The large demo: bulk SQL with a progress bar, chosen by `demo --orders` from a threshold."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from orderdesk.operations import demo_bulk
from orderdesk.orders.models import Order, PaymentState
from orderdesk.payments.models import Authorization
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def load(orders: int) -> str:
    out = io.StringIO()
    call_command("demo", orders=orders, stdout=out)
    return out.getvalue()


@pytest.fixture
def small_bulk(monkeypatch):
    monkeypatch.setattr(demo_bulk, "BULK_FROM_ORDERS", 100)
    monkeypatch.setattr(demo_bulk, "ACCOUNTS", 50)
    monkeypatch.setattr(demo_bulk, "BATCH_ORDERS", 400)
    from orderdesk.operations.management.commands import demo

    monkeypatch.setattr(demo, "BULK_FROM_ORDERS", 100)


def test_a_large_demo_is_built_in_bulk_with_a_progress_bar_after_existing_orders(small_bulk):
    existing = make_order()
    output = load(1000)
    assert Order.objects.filter(number__startswith="D").count() == 1000
    assert Authorization.objects.filter(order__number__startswith="D").count() == 1000
    assert Order.objects.filter(pk=existing.pk).exists()
    assert "1,000 / 1,000 orders" in output
    assert "400 / 1,000 orders" in output  # one line per batch
    assert "csr / csr-demo-pass" in output
    states = set(Order.objects.values_list("payment_state", flat=True))
    assert {PaymentState.FAILED, PaymentState.EXPIRED, PaymentState.AUTHORIZED} <= states
    assert make_order().pk > Order.objects.filter(number__startswith="D").latest("pk").pk


def test_a_second_large_demo_adds_nothing(small_bulk):
    load(500)
    assert "already loaded" in load(500)
    assert Order.objects.count() == 500


def test_the_dashboard_shows_the_large_demo(small_bulk, client):
    load(1000)
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="csr"))
    page = client.get(reverse("dashboard:index")).content.decode()
    assert 'href="/orders/D' in page
