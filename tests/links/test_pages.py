"""The customer's pages and the staff actions over HTTP: token safety, CSRF, rate limits."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from orderdesk.common.clock import now
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services import link_send_price_increase, link_send_reauthorization
from orderdesk.orders.models import Order, PaymentState
from orderdesk.orders.services import LineInput
from orderdesk.payments.models import Authorization
from tests.factories import DECLINE_CARD, authorize, card_token, make_order

pytestmark = pytest.mark.django_db

NEUTRAL = "This payment link can't be used"


def token_of(sent) -> str:
    return sent.url.rsplit("/", 1)[1]


@pytest.fixture
def sent(csr):
    order = make_order(total=15_000, number="700100")
    authorize(order)
    return link_send_reauthorization(order=order, actor=csr)


def test_only_the_sha256_of_the_token_is_stored(sent):
    token = token_of(sent)
    assert len(token) >= 43
    link = PaymentLink.objects.get(pk=sent.link.pk)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = " ".join(str(value) for value in PaymentLink.objects.values().get(pk=link.pk).values())
    assert token not in stored


def test_the_page_shows_order_amount_reason_and_both_ways_to_pay(client, sent):
    response = client.get(f"/pay/{token_of(sent)}")
    assert response.status_code == 200
    text = response.content.decode()
    for expected in ("700100", "USD 150.00", "Approve Order Payment", "Pay with PayPal"):
        assert expected in text
    assert "expires on" in text and "Fixwell Repairs" in text
    assert "csrfmiddlewaretoken" in text
    assert response["Cache-Control"].startswith("max-age=0")
    sent.link.refresh_from_db()
    assert sent.link.opened_at is not None


def neutral_page_reveals_nothing(response):
    text = response.content.decode()
    assert response.status_code == 404
    assert NEUTRAL in text and "support@example.com" in text
    assert "700100" not in text and "USD" not in text


def test_unknown_and_tampered_tokens_show_the_neutral_page(client, sent):
    token = token_of(sent)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for candidate in (tampered, "x" * 43, "short", token + "x"):
        neutral_page_reveals_nothing(client.get(f"/pay/{candidate}"))


def test_expired_link_shows_the_neutral_page(client, sent):
    with time_machine.travel(now() + timedelta(days=15)):
        neutral_page_reveals_nothing(client.get(f"/pay/{token_of(sent)}"))


def test_used_link_shows_the_neutral_page_to_anyone_else(client, sent):
    token = token_of(sent)
    response = client.post(f"/pay/{token}", {"payment_token": card_token()})
    assert response.status_code == 302 and response["Location"].endswith("/done")
    assert "payment is approved" in client.get(response["Location"]).content.decode()
    neutral_page_reveals_nothing(Client().get(f"/pay/{token}"))
    neutral_page_reveals_nothing(Client().get(f"/pay/{token}/done"))
    neutral_page_reveals_nothing(client.get(f"/pay/{token}"))


def test_the_confirmation_cookie_of_one_link_opens_no_other_link(client, sent, csr):
    token = token_of(sent)
    response = client.post(f"/pay/{token}", {"payment_token": card_token()})
    ((name, cookie),) = ((n, c) for n, c in response.cookies.items() if n.startswith("links_"))
    assert cookie["path"] == f"/pay/{token}" and cookie["httponly"]
    other = link_send_reauthorization(order=make_order(total=9_000), actor=csr)
    other_token = token_of(other)
    other_name = name.replace(
        name.rsplit("_", 1)[1], hashlib.sha256(other_token.encode()).hexdigest()[:16]
    )
    stranger = Client()
    stranger.cookies[other_name] = cookie.value  # signed for the first link only
    neutral_page_reveals_nothing(stranger.get(f"/pay/{other_token}/done"))
    forger = Client()
    forger.cookies[name] = '{"outcome": "approved", "order_number": "700100", "message": ""}'
    neutral_page_reveals_nothing(forger.get(f"/pay/{token}/done"))


def test_revoked_link_shows_the_neutral_page(client, sent, csr):
    link_send_reauthorization(order=sent.link.order, actor=csr, confirm=True)
    neutral_page_reveals_nothing(client.get(f"/pay/{token_of(sent)}"))


def test_checkout_form_needs_csrf(sent):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(f"/pay/{token_of(sent)}", {"payment_token": card_token()})
    assert response.status_code == 403
    assert not Authorization.objects.filter(source="customer_link").exists()


def test_declined_card_returns_to_the_page_with_attempts_left(client, sent):
    token = token_of(sent)
    response = client.post(
        f"/pay/{token}", {"payment_token": card_token(DECLINE_CARD)}, follow=True
    )
    text = response.content.decode()
    assert "The payment was declined" in text and "2 attempts left" in text


def test_third_failure_shows_customer_service_will_contact_you(client, sent):
    token = token_of(sent)
    for _ in range(3):
        response = client.post(f"/pay/{token}", {"payment_token": card_token(DECLINE_CARD)})
    assert response["Location"].endswith("/done")
    text = client.get(response["Location"]).content.decode()
    assert "Customer service will contact you" in text
    order = Order.objects.get(pk=sent.link.order_id)
    assert order.payment_state == PaymentState.FAILED


def test_rate_limit_per_token(client, sent, settings):
    settings.ORDERDESK_LINK_RATE_PER_TOKEN = 3
    url = f"/pay/{token_of(sent)}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(url)
    assert response.status_code == 429 and "Too many attempts" in response.content.decode()
    assert "support@example.com" in response.content.decode()


def test_rate_limit_per_client_address_stops_token_guessing(client, settings):
    settings.ORDERDESK_LINK_RATE_PER_ADDRESS = 5
    codes = [client.get(f"/pay/{'g' * 42}{i}").status_code for i in range(6)]
    assert codes == [404] * 5 + [429]
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert other.get(f"/pay/{'g' * 43}").status_code == 404


def test_paypal_round_trip(client, csr):
    order = make_order(total=8_000)
    sent = link_send_reauthorization(order=order, actor=csr)
    token = token_of(sent)
    response = client.post(f"/pay/{token}/paypal")
    approve_url = response["Location"]
    assert approve_url.startswith("/sandbox/paypal/")
    back = client.post(approve_url, {"decision": "approve", "payer_email": "p@pp.test"})
    confirm = client.get(back["Location"])
    assert confirm.status_code == 200 and "Confirm your PayPal payment" in confirm.content.decode()
    done = client.post(f"/pay/{token}/paypal/return")
    assert done["Location"].endswith("/done")
    assert Authorization.objects.get(order=order).payer_email == "p@pp.test"


def test_a_returned_paypal_order_that_this_browser_did_not_start_is_refused(client, csr):
    order = make_order(total=8_000)
    token = token_of(link_send_reauthorization(order=order, actor=csr))
    response = client.get(f"/pay/{token}/paypal/return?paypal=approved&token=PAYID_forged")
    assert response.status_code == 302
    assert client.post(f"/pay/{token}/paypal/return").status_code == 302
    assert not Authorization.objects.filter(order=order).exists()


def test_customer_declines_on_the_page(client, csr):
    order = make_order(total=0)
    sent = link_send_price_increase(order=order, actor=csr, lines=[LineInput("Repair", 9_000)])
    token = token_of(sent)
    page = client.get(f"/pay/{token}?decline=1").content.decode()
    assert "New price" in page and "USD 90.00" in page and "Decline" in page
    response = client.post(f"/pay/{token}/decline")
    assert "You declined the new price" in client.get(response["Location"]).content.decode()
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.DECLINED


# --- staff actions ------------------------------------------------------------------------


@pytest.fixture
def csr_client(client, csr):
    client.force_login(csr)
    return client


def test_the_order_screen_says_the_customer_declined_the_price_increase(csr_client, csr):
    order = make_order(total=5_000)
    authorize(order)
    sent = link_send_price_increase(order=order, actor=csr, lines=[LineInput("Repair", 9_000)])
    with time_machine.travel(now() + timedelta(minutes=1)):
        Client().post(f"/pay/{token_of(sent)}/decline")
    html = csr_client.get(f"/orders/{order.number}/").content.decode()
    assert "The customer declined the price increase to USD 90.00" in html
    assert "Re-trigger cart" in html and "Send price increase" in html


def test_retrigger_button_sends_and_confirms(csr_client):
    order = make_order(total=5_000)
    response = csr_client.post(f"/orders/{order.number}/links/reauthorize/", follow=True)
    assert "Approve Order Payment link for USD 50.00 e-mailed to" in response.content.decode()
    again = csr_client.post(f"/orders/{order.number}/links/reauthorize/")
    assert again.status_code == 200 and "Send another e-mail" in again.content.decode()
    assert PaymentLink.objects.filter(order=order).count() == 1
    csr_client.post(f"/orders/{order.number}/links/reauthorize/", {"confirm": "1"})
    assert PaymentLink.objects.filter(order=order).count() == 2


def test_retrigger_refusal_is_explained(csr_client):
    order = make_order(total=0)
    response = csr_client.post(f"/orders/{order.number}/links/reauthorize/", follow=True)
    assert "Cart not re-triggered: The order has no price yet" in response.content.decode()


def test_price_increase_form_shows_old_and_new_totals_then_sends(csr_client):
    order = make_order(total=0)
    url = f"/orders/{order.number}/links/price-increase/"
    page = csr_client.get(url)
    assert page.status_code == 200 and "Diagnosis" in page.content.decode()
    data = {
        "form-TOTAL_FORMS": "2",
        "form-INITIAL_FORMS": "0",
        "form-0-description": "Board repair",
        "form-0-quantity": "1",
        "form-0-unit_price": "180.00",
        "form-1-description": "Battery",
        "form-1-quantity": "2",
        "form-1-unit_price": "22.50",
    }
    preview = csr_client.post(url, {**data, "action": "preview"}).content.decode()
    assert "USD 0.00" in preview and "USD 225.00" in preview
    assert not PaymentLink.objects.exists()
    response = csr_client.post(url, {**data, "action": "send"}, follow=True)
    assert "New cart (price increase) for USD 225.00" in response.content.decode()
    link = PaymentLink.objects.get(order=order)
    assert link.proposed_lines[1] == {
        "description": "Battery",
        "quantity": 2,
        "unit_price": 2250,
        "sku": "",
    }


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("-5", "&#x27;-5&#x27; is not a price: it cannot be negative."),
        ("12.3.4", "&#x27;12.3.4&#x27; is not a price: it has more than one decimal point."),
    ],
)
def test_a_refused_price_says_what_is_wrong_with_it(csr_client, typed, says):
    order = make_order(total=0)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "0",
        "form-0-description": "Board repair",
        "form-0-quantity": "1",
        "form-0-unit_price": typed,
        "action": "send",
    }
    response = csr_client.post(f"/orders/{order.number}/links/price-increase/", data)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert "Enter a price such as" not in response.content.decode()
    assert not PaymentLink.objects.exists()


def test_staff_actions_need_log_in_and_permission(client, db):
    from django.contrib.auth import get_user_model

    order = make_order()
    url = f"/orders/{order.number}/links/reauthorize/"
    assert client.post(url)["Location"].startswith("/login/")
    nobody = get_user_model().objects.create_user("plain", password="x-y-z-secret", is_staff=True)
    client.force_login(nobody)
    assert client.post(url).status_code == 403
    assert client.get(f"/orders/{order.number}/links/price-increase/").status_code == 403
    assert not PaymentLink.objects.exists()


def test_revoke_button(csr_client, csr):
    order = make_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    response = csr_client.post(f"/orders/{order.number}/links/{sent.link.pk}/revoke/", follow=True)
    assert "no longer works" in response.content.decode()
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.REVOKED


def test_order_screen_shows_link_actions_to_those_allowed(csr_client, csr):
    order = make_order(total=5_000)
    link_send_reauthorization(order=order, actor=csr)
    page = csr_client.get(f"/orders/{order.number}/").content.decode()
    assert "Re-trigger cart" in page and "Send price increase" in page
    assert "Revoke link" in page and "not opened yet" in page


def test_a_link_opened_seconds_ago_reads_just_now_on_the_order_screen(csr_client, csr, client):
    order = make_order(total=5_000)
    sent = link_send_reauthorization(order=order, actor=csr)
    client.get(f"/pay/{token_of(sent)}")
    page = csr_client.get(f"/orders/{order.number}/").content.decode()
    assert "opened just now" in page
    assert "0 minutes" not in page


@pytest.mark.parametrize("path", ["/pay/", "/pay/abc/def/ghi", "/pay/abc/", "/pay/x/paypal/oops"])
def test_an_odd_address_under_pay_shows_the_customer_neutral_page(client, path):
    response = client.get(path)
    neutral_page_reveals_nothing(response)
    assert "order number may have been mistyped" not in response.content.decode()


def test_the_customer_page_shows_the_amount_once_and_one_card_heading(client, sent):
    text = client.get(f"/pay/{token_of(sent)}").content.decode()
    assert text.count("Amount to approve") == 1 and text.count('data-testid="amount"') == 1
    assert "To approve" not in text  # the amount is not repeated below the lines
    assert text.count(">Pay by card<") == 1 and "<legend>Card</legend>" not in text


def test_a_hold_no_longer_wanted_tells_the_customer_their_card_was_not_charged(client, sent):
    from orderdesk.payments.models import AuthorizationSource

    authorize(sent.link.order, source=AuthorizationSource.CUSTOMER_LINK)  # secured since
    token = token_of(sent)
    response = client.post(f"/pay/{token}", {"payment_token": card_token()}, follow=True)
    text = response.content.decode()
    assert "Your card was not charged" in text and "is being released" in text
    assert "secured already" in text and "your payment is approved" not in text


def test_revoking_a_link_the_customer_is_paying_with_tells_the_csr_what_follows(csr_client, csr):
    order = make_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    PaymentLink.objects.filter(pk=sent.link.pk).update(processing_since=now())  # at the gateway
    response = csr_client.post(f"/orders/{order.number}/links/{sent.link.pk}/revoke/", follow=True)
    text = response.content.decode()
    assert "no longer works" in text
    assert "The customer was paying with it at that moment" in text
    assert "the hold is released" in order.events.get(kind="link_revoked").message


def test_the_page_of_a_late_answer_says_approved_once_reconciliation_finished_it(client, sent):
    from orderdesk.payments.gateways.sandbox import inject_faults
    from orderdesk.payments.services import authorizations_reconcile_unknown

    token = token_of(sent)
    with inject_faults("timeout", operation="authorize"):
        response = client.post(f"/pay/{token}", {"payment_token": card_token()}, follow=True)
    assert "We are checking your payment" in response.content.decode()
    authorizations_reconcile_unknown(older_than_seconds=0)
    text = client.get(f"/pay/{token}/done").content.decode()
    assert "your payment is approved" in text and "700100" in text
