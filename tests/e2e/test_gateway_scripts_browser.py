"""Stripe.js and PayPal's JS SDK in real Chromium, against the local fakes of both gateways.

The fakes serve stand-ins of the two scripts (tests/contract/fakes/browser/), which talk to
the fake APIs as the real scripts talk to Stripe and PayPal: the card is typed into a frame
of the Stripe fake's origin and never reaches orderdesk; the PayPal payer approves in a
popup of the PayPal fake's origin. Each flow ends in an authorization that orderdesk
recorded and the fake gateway holds, with no Content-Security-Policy violation on the way.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services import link_send_reauthorization
from orderdesk.orders.models import PaymentState
from orderdesk.payments.models import Authorization, AuthorizationStatus
from tests.contract.fakes import paypal_api, stripe_api
from tests.factories import make_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CARD_FRAME = "iframe[title='Secure payment input frame']"


@pytest.fixture
def stripe_fake():
    server = stripe_api.FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def paypal_fake():
    server = paypal_api.FakePayPal().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def gateways(settings, live_server, stripe_fake, paypal_fake):
    from django.core.cache import cache

    cache.clear()
    settings.ORDERDESK_BASE_URL = live_server.url
    settings.ORDERDESK_GATEWAY = "stripe"
    settings.ORDERDESK_GATEWAYS = "card:stripe,paypal:paypal"
    settings.ORDERDESK_STRIPE_SECRET_KEY = stripe_api.SECRET_KEY
    settings.ORDERDESK_STRIPE_PUBLISHABLE_KEY = stripe_api.PUBLISHABLE_KEY
    settings.ORDERDESK_STRIPE_API_BASE = stripe_fake.url
    settings.ORDERDESK_STRIPE_JS_URL = f"{stripe_fake.url}/v3/"
    settings.ORDERDESK_PAYPAL_CLIENT_ID = paypal_api.CLIENT_ID
    settings.ORDERDESK_PAYPAL_CLIENT_SECRET = paypal_api.CLIENT_SECRET
    settings.ORDERDESK_PAYPAL_API_BASE = paypal_fake.url
    settings.ORDERDESK_PAYPAL_SDK_URL = f"{paypal_fake.url}/sdk/js"
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0


@pytest.fixture
def violations(page):
    """Content-Security-Policy violations the page reports (there must be none)."""
    found = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


def fill_stripe_card(page, number="4242 4242 4242 4242"):
    frame = page.frame_locator(CARD_FRAME)
    frame.get_by_label("Card number").fill(number)
    frame.get_by_label("Expiration date").fill("12 / 34")
    frame.get_by_label("Security code").fill("123")


def the_only_authorization(order) -> Authorization:
    (authorization,) = Authorization.objects.filter(order__number__startswith=order.number)
    return authorization


def test_the_customer_approves_with_stripe_js_and_the_hold_is_stripes(
    page, csr, stripe_fake, violations, screenshot
):
    order = make_order(total=18_900)
    sent = link_send_reauthorization(order=order, actor=csr)
    card_posts = []
    page.on(
        "request", lambda r: card_posts.append(r.post_data or "") if r.method == "POST" else None
    )

    page.goto(sent.url)
    fill_stripe_card(page)
    screenshot(page, "pay-stripe-js")
    page.get_by_role("button", name="Approve Order Payment").click()

    expect(page.get_by_role("heading", name=re.compile("approved", re.I))).to_be_visible()
    authorization = the_only_authorization(order)
    assert authorization.status == AuthorizationStatus.AUTHORIZED
    assert authorization.instrument == "Visa •••• 4242"
    intent = stripe_fake.intents[authorization.gateway_reference]
    assert (intent["status"], intent["amount"], intent["capture_method"]) == (
        "requires_capture",
        18_900,
        "manual",
    )
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    assert PaymentLink.objects.get(pk=sent.link.pk).status == LinkStatus.COMPLETED
    # Only the Stripe fake's frame ever sent the card number.
    orderdesk_posts = [body for body in card_posts if "4242424242424242" in body.replace(" ", "")]
    assert len(orderdesk_posts) == 1 and "client_secret" in orderdesk_posts[0]
    assert violations == []


def test_a_card_declined_by_stripe_counts_as_the_customers_failed_attempt(page, csr, violations):
    order = make_order(total=18_900)
    sent = link_send_reauthorization(order=order, actor=csr)

    page.goto(sent.url)
    fill_stripe_card(page, "4000 0000 0000 9995")
    page.get_by_role("button", name="Approve Order Payment").click()

    expect(page.get_by_text(re.compile("insufficient funds", re.I))).to_be_visible()
    authorization = the_only_authorization(order)
    assert (authorization.status, authorization.decline_code) == ("declined", "insufficient_funds")
    assert PaymentLink.objects.get(pk=sent.link.pk).failed_attempts == 1
    assert violations == []


def test_the_virtual_terminal_authorizes_a_phone_order_with_stripe_js(
    csr_page, stripe_fake, violations
):
    order = make_order(total=7_500)

    csr_page.goto(f"/orders/{order.number}/")
    fill_stripe_card(csr_page, "5555 5555 5555 4444")
    csr_page.get_by_role("button", name="Authorize card").click()

    expect(
        csr_page.get_by_text(re.compile(r"Card approved: USD 75\.00 authorized"))
    ).to_be_visible()
    authorization = the_only_authorization(order)
    assert (authorization.status, authorization.source) == ("authorized", "manual")
    assert authorization.instrument == "Mastercard •••• 4444"
    assert stripe_fake.intents[authorization.gateway_reference]["status"] == "requires_capture"
    assert violations == []


def test_the_customer_approves_with_paypal_buttons_and_orderdesk_authorizes_it(
    page, csr, paypal_fake, violations, screenshot
):
    order = make_order(total=12_000, payment_method="paypal")
    sent = link_send_reauthorization(order=order, actor=csr)

    page.goto(sent.url)
    # The card frame above loads last and moves the PayPal button: click once it is still.
    page.frame_locator(CARD_FRAME).get_by_label("Card number").wait_for()
    paypal = page.get_by_role("button", name="PayPal Checkout")
    paypal.scroll_into_view_if_needed()
    expect(paypal).to_be_in_viewport()
    page.wait_for_load_state("networkidle")
    with page.expect_popup() as opened:
        paypal.click()
    popup = opened.value
    popup.get_by_role("button", name="Approve payment").click()

    expect(page.get_by_role("heading", name=re.compile("approved", re.I))).to_be_visible()
    screenshot(page, "pay-paypal-buttons")
    authorization = the_only_authorization(order)
    assert (authorization.status, authorization.gateway) == ("authorized", "paypal")
    held = paypal_fake.authorizations[authorization.gateway_reference]
    assert (held["status"], held["amount"]["value"]) == ("CREATED", "120.00")
    assert violations == []
