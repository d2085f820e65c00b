"""Customer payment links end to end in Chromium, with e-mail delivered over real SMTP.

A CSR acts on the order screen; the worker delivers the e-mail to an aiosmtpd server; the
test takes the link out of the received message and completes the flow as the customer,
in a phone-sized browser context. Screenshots of the customer pages go to test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from orderdesk.common.clock import as_of, now
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services import (
    link_send_price_increase,
    link_send_reauthorization,
    links_expire,
)
from orderdesk.orders.models import CancelReason, Order, OrderStatus, PaymentState
from orderdesk.orders.services import LineInput
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.sweep import authorizations_expire
from tests.factories import DECLINE_CARD, authorize, make_order
from tests.notifications.smtp import deliver_emails, link_in, smtp_server  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def links_point_at_the_live_server(settings, live_server):
    from django.core.cache import cache

    settings.ORDERDESK_BASE_URL = live_server.url
    cache.clear()


@pytest.fixture
def customer(browser):
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def expired_order(**kwargs) -> Order:
    order = make_order(**kwargs)
    with as_of(now() - timedelta(days=30)):
        authorize(order)
    authorizations_expire()
    order.refresh_from_db()
    assert order.payment_state == PaymentState.EXPIRED
    return order


def received_link(smtp_server, order) -> str:  # noqa: F811
    deliver_emails()
    messages = smtp_server.to(order.account.ecommerce_email)
    assert messages, "no e-mail reached the SMTP server"
    return link_in(messages[-1])


def pay_by_card(page, number: str = "4242 4242 4242 4242") -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill("2099")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Approve Order Payment").click()


def test_retrigger_after_expiry_paid_by_card(csr_page, customer, smtp_server, screenshot):  # noqa: F811
    order = expired_order(total=18_900)
    csr_page.goto(f"/orders/{order.number}/")
    csr_page.get_by_role("button", name="Re-trigger cart").click()
    expect(
        csr_page.get_by_role("status").filter(has_text="Approve Order Payment link for USD 189.00")
    ).to_be_visible()
    screenshot(csr_page, "links-order-screen-link-sent")

    url = received_link(smtp_server, order)
    customer.goto(url)
    expect(customer.get_by_role("heading", level=1)).to_contain_text(order.number)
    expect(customer.get_by_text(re.compile("authorization for this order expired"))).to_be_visible()
    screenshot(customer, "links-customer-reauthorization")
    pay_by_card(customer)
    expect(
        customer.get_by_role("heading", name="Thank you, your payment is approved")
    ).to_be_visible()
    screenshot(customer, "links-customer-approved")

    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    authorization = Authorization.objects.get(order=order, status=AuthorizationStatus.AUTHORIZED)
    assert authorization.amount == 18_900 and authorization.source == "customer_link"


def test_retrigger_after_expiry_paid_with_paypal(csr, customer, smtp_server, screenshot):  # noqa: F811
    order = expired_order(total=7_500, payment_method="paypal")
    link_send_reauthorization(order=order, actor=csr)
    customer.goto(received_link(smtp_server, order))
    customer.get_by_role("button", name="Pay with PayPal").click()
    expect(customer.get_by_role("heading", name=re.compile("PayPal"))).to_be_visible()
    customer.get_by_label("PayPal e-mail").fill("payer@paypal.test")
    customer.get_by_role("button", name="Approve").click()
    expect(customer.get_by_role("heading", name="Confirm your PayPal payment")).to_be_visible()
    screenshot(customer, "links-customer-paypal-confirm")
    customer.get_by_role("button", name="Approve Order Payment").click()
    expect(
        customer.get_by_role("heading", name="Thank you, your payment is approved")
    ).to_be_visible()
    authorization = Authorization.objects.get(order=order, status=AuthorizationStatus.AUTHORIZED)
    assert authorization.payer_email == "payer@paypal.test"


def test_price_increase_on_a_zero_dollar_repair_replaces_the_order(
    csr_page,
    customer,
    smtp_server,  # noqa: F811
    screenshot,
):
    order = make_order(total=0)
    assert order.payment_state == PaymentState.AWAITING_PRICE
    csr_page.goto(f"/orders/{order.number}/")
    csr_page.get_by_role("link", name="Send price increase").click()
    csr_page.get_by_label("Description, line 1").fill("Logic board repair")
    csr_page.get_by_label("Unit price, line 1").fill("240.00")
    csr_page.get_by_label("Description, line 2").fill("Battery")
    csr_page.get_by_label("Unit price, line 2").fill("49.50")
    csr_page.get_by_role("button", name="Show new total").click()
    expect(csr_page.get_by_test_id("old-total")).to_have_text("USD 0.00")
    expect(csr_page.get_by_test_id("new-total")).to_have_text("USD 289.50")
    screenshot(csr_page, "links-staff-price-increase")
    csr_page.get_by_role("button", name="Send price increase to the customer").click()
    expect(
        csr_page.get_by_role("status").filter(has_text=re.compile("New cart .* for USD 289.50"))
    ).to_be_visible()

    customer.goto(received_link(smtp_server, order))
    expect(customer.get_by_text("New total")).to_be_visible()
    expect(customer.get_by_test_id("amount")).to_have_text("USD 289.50")
    screenshot(customer, "links-customer-price-increase")
    pay_by_card(customer)
    expect(
        customer.get_by_role("heading", name="Thank you, your payment is approved")
    ).to_be_visible()

    old = Order.objects.get(pk=order.pk)
    new = Order.objects.get(number=f"{order.number}-1")
    assert (old.status, old.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.REPLACED)
    assert new.supersedes == old and new.total == 28_950
    assert new.payment_state == PaymentState.AUTHORIZED
    assert Authorization.objects.get(status=AuthorizationStatus.AUTHORIZED).order == new
    csr_page.goto(f"/orders/{new.number}/")
    expect(csr_page.get_by_role("link", name=f"order {old.number}")).to_be_visible()
    screenshot(csr_page, "links-order-screen-replacement")


def test_customer_declines_the_price_increase(csr, customer, smtp_server, screenshot):  # noqa: F811
    order = make_order(total=0)
    link_send_price_increase(order=order, actor=csr, lines=[LineInput("Screen and frame", 31_000)])
    customer.goto(received_link(smtp_server, order))
    customer.get_by_role("button", name="Decline").click()
    expect(customer.get_by_role("heading", name="You declined the new price")).to_be_visible()
    screenshot(customer, "links-customer-declined")
    order.refresh_from_db()
    assert "declined the price increase" in order.last_action
    assert order.payment_state == PaymentState.AWAITING_PRICE
    assert PaymentLink.objects.get(order=order).status == LinkStatus.DECLINED


def test_failing_card_ends_in_manual_processing(csr, customer, smtp_server, screenshot):  # noqa: F811
    order = expired_order(total=12_000)
    link_send_reauthorization(order=order, actor=csr)
    customer.goto(received_link(smtp_server, order))
    for attempt in range(3):
        pay_by_card(customer, DECLINE_CARD)
        if attempt < 2:
            # Wait for this attempt's own answer (the previous page says "declined" too).
            left = "2 attempts left" if attempt == 0 else "1 attempt left"
            expect(
                customer.get_by_text(re.compile(f"The payment was declined.*{left}"))
            ).to_be_visible()
            if attempt == 0:
                screenshot(customer, "links-customer-declined-card")
    expect(customer.get_by_role("heading", name="We could not take the payment")).to_be_visible()
    expect(customer.get_by_text("Customer service will contact you")).to_be_visible()
    screenshot(customer, "links-customer-manual-processing")
    order.refresh_from_db()
    assert order.payment_state == PaymentState.FAILED
    assert PaymentLink.objects.get(order=order).status == LinkStatus.FAILED


def test_expired_link_shows_the_neutral_page(csr, customer, smtp_server, screenshot):  # noqa: F811
    order = make_order(total=5_000, number="880001")
    link_send_reauthorization(order=order, actor=csr)
    url = received_link(smtp_server, order)
    links_expire(at=now() + timedelta(days=15))
    customer.goto(url)
    expect(customer.get_by_role("heading", name="This payment link can't be used")).to_be_visible()
    expect(customer.get_by_role("link", name="support@example.com")).to_be_visible()
    assert "880001" not in customer.content()
    screenshot(customer, "links-customer-link-unavailable")


def test_tampered_token_shows_the_neutral_page(csr, customer, smtp_server):  # noqa: F811
    order = make_order(total=5_000, number="880002")
    link_send_reauthorization(order=order, actor=csr)
    url = received_link(smtp_server, order)
    tampered = url[:-2] + ("aa" if not url.endswith("aa") else "bb")
    customer.goto(tampered)
    expect(customer.get_by_role("heading", name="This payment link can't be used")).to_be_visible()
    assert "880002" not in customer.content()
    assert PaymentLink.objects.get(order=order).opened_at is None


def test_recent_emails_page_lets_a_new_user_follow_the_link(csr_page, csr, screenshot):
    order = make_order(total=6_000)
    link_send_reauthorization(order=order, actor=csr)
    csr_page.goto("/dashboard/")
    csr_page.get_by_role("link", name="Recent e-mails").click()
    csr_page.get_by_role("link", name=re.compile(f"order {order.number}")).click()
    screenshot(csr_page, "links-staff-recent-email")
    csr_page.get_by_test_id("email-text").get_by_role("link", name=re.compile("pay")).click()
    expect(csr_page.get_by_role("heading", level=1)).to_contain_text(order.number)
