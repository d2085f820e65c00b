"""The demo loader: realistic data over every payment state, built through the services."""

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate as django_authenticate
from django.core.management import call_command
from django.utils import timezone

from orderdesk.operations.demo import demo_load, demo_plan
from orderdesk.orders.models import CancelReason, Order, OrderEvent, OrderStatus, PaymentState
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.state import payment_state_compute

pytestmark = pytest.mark.django_db

ORDERS = 40


def load(orders=ORDERS):
    out = io.StringIO()
    call_command("demo", orders=orders, stdout=out)
    return out.getvalue()


def test_demo_loads_the_requested_number_of_orders_and_prints_the_log_ins():
    output = load()
    assert Order.objects.count() == ORDERS
    for login in (
        "csr / csr-demo-pass",
        "supervisor / supervisor-demo-pass",
        "admin / admin-demo-pass",
    ):
        assert login in output


def test_a_second_demo_run_adds_nothing():
    load()
    counts = (
        Order.objects.count(),
        Authorization.objects.count(),
        OrderEvent.objects.count(),
    )
    output = load()
    assert (
        Order.objects.count(),
        Authorization.objects.count(),
        OrderEvent.objects.count(),
    ) == counts
    assert "nothing added" in output


def test_an_interrupted_demo_load_completes_on_the_next_run():
    plan = demo_plan(ORDERS)
    load()
    Order.objects.filter(number=plan[-1].number).update(number="moved-away")
    load()
    assert Order.objects.filter(number=plan[-1].number).exists()


def test_demo_covers_every_payment_state():
    load()
    expected = set(PaymentState.values)
    present = set(Order.objects.values_list("payment_state", flat=True))
    assert present == expected


def test_demo_payment_state_agrees_with_the_payment_records():
    load()
    for order in Order.objects.all():
        assert order.payment_state == payment_state_compute(order).state, order.number


def test_demo_has_authorizations_of_every_age():
    load()
    now = timezone.now()
    live = Order.objects.filter(payment_state=PaymentState.AUTHORIZED)
    assert live.filter(payment_expires_at__lte=now + timedelta(days=5)).exists()
    assert live.filter(payment_expires_at__gt=now + timedelta(days=20)).exists()
    beyond = [
        order
        for order in live.exclude(estimated_delivery_date=None)
        if order.estimated_delivery_date > order.payment_expires_at.date()
    ]
    assert beyond, "an estimated delivery date beyond the authorization's expiry"
    statuses = Counter(Authorization.objects.values_list("status", flat=True))
    for status in ("authorized", "expired", "declined", "captured", "voided"):
        assert statuses[status] > 0, status
    assert not Authorization.objects.filter(
        status=AuthorizationStatus.AUTHORIZED, expires_at__lte=now
    ).exists(), "the sweep leaves no lapsed authorization live"


def test_demo_history_is_in_the_past_and_orders_have_notes_and_assignees():
    load()
    oldest = Order.objects.order_by("created_at").first()
    assert oldest.created_at < timezone.now() - timedelta(days=30)
    assert Order.objects.exclude(assigned_to=None).exists()
    assert OrderEvent.objects.filter(kind="note").exists()
    assert Order.objects.filter(kind="repair", quoted_total=0).exists()


def test_demo_replaced_order_is_cancelled_and_linked_to_its_replacement():
    load()
    replacement = Order.objects.get(supersedes__isnull=False)
    old = replacement.supersedes
    assert replacement.number == f"{old.number}-1"
    assert old.status == OrderStatus.CANCELLED
    assert old.cancel_reason == CancelReason.REPLACED
    assert old.payment_state == PaymentState.VOID
    assert replacement.total > old.total
    assert replacement.account_id == old.account_id
    assert replacement.payment_state == PaymentState.AUTHORIZED
    assert not old.authorizations.filter(status=AuthorizationStatus.AUTHORIZED).exists()
    assert old.events.filter(kind="replaced").exists()


def test_demo_replacements_come_from_the_customers_approval_of_a_new_cart():
    """The demo replaces orders as a customer does: a completed price-increase link, the
    hold made through it moved to the new order, and the CRM told of the pair."""
    from orderdesk.crm.models import CrmMessage
    from orderdesk.links.models import LinkPurpose, LinkStatus

    load()
    replacement = Order.objects.get(supersedes__isnull=False)
    old = replacement.supersedes
    link = old.payment_links.get(purpose=LinkPurpose.PRICE_INCREASE)
    assert link.status == LinkStatus.COMPLETED
    hold = replacement.authorizations.get(status=AuthorizationStatus.AUTHORIZED)
    assert hold.source == "customer_link" and hold.amount == replacement.total
    message = CrmMessage.objects.get(topic="order.replaced")
    assert message.payload["old_number"] == old.number
    assert message.payload["new_number"] == replacement.number


def test_demo_has_a_declined_price_increase_still_on_the_unpaid_panel():
    from orderdesk.unpaid.rows import unpaid_panel

    load()
    declined = Order.objects.get(events__kind="declined")
    assert declined.payment_state == PaymentState.AWAITING_PRICE
    assert declined.authorized_amount == declined.total > 0  # an older hold covers the old total
    panel = unpaid_panel(user=None, group="not_authorized", per_page=50)
    assert declined.number in {order.number for order in panel.rows}


def authenticate(**credentials):
    # As the log-in page does: the log-in protection (django-axes) needs the request.
    from django.test import RequestFactory

    return django_authenticate(RequestFactory().post("/login/"), **credentials)


def test_demo_log_ins_work_with_their_roles_and_existing_passwords_are_kept():
    load()
    csr = authenticate(username="csr", password="csr-demo-pass")
    supervisor = authenticate(username="supervisor", password="supervisor-demo-pass")
    admin = authenticate(username="admin", password="admin-demo-pass")
    assert csr.is_staff and not csr.has_perm("orders.cancel_order")
    assert supervisor.has_perm("orders.override_ship_gate") and not supervisor.is_superuser
    assert admin.is_superuser
    csr.set_password("changed-by-the-user")
    csr.save()
    load()
    assert authenticate(username="csr", password="changed-by-the-user") is not None


def test_demo_plan_is_deterministic_and_numbers_rise_with_creation_time():
    plan = demo_plan(200)
    assert plan == demo_plan(200)
    ages = [item.age_days for item in plan]
    assert ages == sorted(ages, reverse=True)
    assert sum(2 if item.scenario == "replaced" else 1 for item in plan) == 200


def test_demo_refuses_too_few_orders():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        load(orders=5)
    assert Order.objects.count() == 0


def test_demo_load_reports_progress():
    lines = []
    demo_load(order_count=ORDERS, write=lines.append)
    assert any("demo orders:" in line for line in lines)
