"""The customer page with the gateways' own scripts, over HTTP against the local fakes:
which script it loads, the Content-Security-Policy that lets exactly that script in, and
the JSON calls those scripts make (a PaymentIntent for Stripe.js, an order for PayPal)."""

from datetime import timedelta

import pytest
import requests
import time_machine
from django.test import Client

from orderdesk.common.clock import now
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services import link_revoke, link_send_reauthorization
from orderdesk.payments.models import Authorization, AuthorizationStatus, GatewayStep, StepStatus
from orderdesk.payments.services import void_steps_deliver
from tests.contract.fakes import paypal_api, stripe_api
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_fake(settings):
    with stripe_api.stripe_serving(settings, ORDERDESK_GATEWAYS="card:stripe") as server:
        yield server


@pytest.fixture
def paypal_fake(settings):
    server = paypal_api.FakePayPal().start()
    settings.ORDERDESK_GATEWAYS = "card:sandbox,paypal:paypal"
    settings.ORDERDESK_PAYPAL_CLIENT_ID = paypal_api.CLIENT_ID
    settings.ORDERDESK_PAYPAL_CLIENT_SECRET = paypal_api.CLIENT_SECRET
    settings.ORDERDESK_PAYPAL_API_BASE = server.url
    settings.ORDERDESK_PAYPAL_SDK_URL = f"{server.url}/sdk/js"
    settings.ORDERDESK_GATEWAY_NETWORK_RETRIES = 0
    yield server
    server.stop()


@pytest.fixture
def sent(csr):
    return link_send_reauthorization(order=make_order(total=15_000), actor=csr)


def page_of(sent) -> str:
    return "/pay/" + sent.url.rsplit("/", 1)[1]


def policy(response) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return {name: rest for name, rest in parts}


def confirm_in_the_browser(fake, client_secret, number="4242424242424242"):
    """What the Payment Element's frame sends to Stripe: the card goes there, not here."""
    intent_id = client_secret.split("_secret_")[0]
    requests.post(
        f"{fake.url}/v1/payment_intents/{intent_id}/confirm",
        data={
            "key": stripe_api.PUBLISHABLE_KEY,
            "client_secret": client_secret,
            "payment_method_data[card][number]": number,
        },
        timeout=5,
    )
    return intent_id


def intent_for(client, sent) -> str:
    answer = client.post(f"{page_of(sent)}/card/intent", "{}", content_type="application/json")
    assert answer.status_code == 200, answer.content
    return answer.json()["client_secret"]


def test_with_the_sandbox_the_page_loads_only_its_own_scripts(client, sent):
    response = client.get(page_of(sent))
    text = response.content.decode()
    assert "/sandbox/card-form.js" in text and "stripe" not in text.lower()
    csp = policy(response)
    assert (csp["script-src"], csp["connect-src"]) == ("'self'", "'self'")
    assert "frame-src" not in csp


def test_with_stripe_the_page_loads_stripe_js_and_its_policy_allows_that_origin_only(
    client, sent, stripe_fake
):
    response = client.get(page_of(sent))
    text = response.content.decode()
    assert f'src="{stripe_fake.url}/v3/"' in text
    assert f'data-publishable-key="{stripe_api.PUBLISHABLE_KEY}"' in text
    assert "/sandbox/" not in text
    csp = policy(response)
    assert csp["script-src"] == csp["connect-src"] == f"'self' {stripe_fake.url}"
    assert csp["frame-src"] == stripe_fake.url
    assert "paypal" not in " ".join(csp.values())


def test_stripe_js_from_stripe_itself_gets_the_hosts_stripe_documents(client, sent, settings):
    settings.ORDERDESK_GATEWAYS = "card:stripe"
    settings.ORDERDESK_STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    csp = policy(client.get(page_of(sent)))
    assert "https://js.stripe.com" in csp["script-src"]
    assert "https://hooks.stripe.com" in csp["frame-src"]
    assert "https://api.stripe.com" in csp["connect-src"]
    assert "paypal" not in " ".join(csp.values())


def test_the_intent_is_for_the_links_amount_and_holds_nothing_yet(client, sent, stripe_fake):
    client_secret = intent_for(client, sent)

    (intent,) = stripe_fake.intents.values()
    assert client_secret == intent["client_secret"]
    assert (intent["amount"], intent["capture_method"], intent["status"]) == (
        15_000,
        "manual",
        "requires_payment_method",
    )
    assert not Authorization.objects.exists()


def test_a_closed_link_gets_no_intent(client, sent, stripe_fake, csr):
    link_revoke(link=sent.link, actor=csr)
    answer = client.post(f"{page_of(sent)}/card/intent", "{}", content_type="application/json")
    assert answer.status_code == 404
    assert stripe_fake.intents == {}


def test_the_confirmed_intent_posted_back_is_the_customers_authorization(client, sent, stripe_fake):
    intent_id = confirm_in_the_browser(stripe_fake, intent_for(client, sent))

    answer = client.post(page_of(sent), {"payment_token": intent_id})

    assert answer.status_code == 302 and answer["Location"].endswith("/done")
    authorization = Authorization.objects.get()
    assert (authorization.status, authorization.gateway_reference) == ("authorized", intent_id)
    assert PaymentLink.objects.get(pk=sent.link.pk).status == LinkStatus.COMPLETED


def test_a_card_confirmed_after_the_link_closed_is_released_not_held(
    client, sent, stripe_fake, csr
):
    intent_id = confirm_in_the_browser(stripe_fake, intent_for(client, sent))
    link_revoke(link=sent.link, actor=csr)

    answer = client.post(page_of(sent), {"payment_token": intent_id})

    assert answer.status_code == 404
    (authorization,) = Authorization.objects.all()  # recorded, its release decided
    assert (authorization.status, authorization.gateway_reference) == ("authorized", intent_id)
    (step,) = GatewayStep.objects.filter(authorization=authorization)
    assert (step.kind, step.purpose) == ("void", "the payment link was revoked")
    assert stripe_fake.intents[intent_id]["status"] == "requires_capture"

    assert void_steps_deliver() == {StepStatus.SUCCEEDED: 1}  # the worker, with its retries
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.VOIDED
    assert stripe_fake.intents[intent_id]["status"] == "canceled"
    timeline = list(authorization.order.events.values_list("message", flat=True))
    assert any("in the browser, not kept: the payment link was revoked" in m for m in timeline)


def test_the_release_of_a_refused_card_is_retried_until_stripe_confirms(
    client, sent, stripe_fake, csr
):
    intent_id = confirm_in_the_browser(stripe_fake, intent_for(client, sent))
    link_revoke(link=sent.link, actor=csr)
    client.post(page_of(sent), {"payment_token": intent_id})
    stripe_fake.inject("unavailable", path=f"/v1/payment_intents/{intent_id}/cancel", times=1)

    assert void_steps_deliver() == {"retrying": 1}
    assert stripe_fake.intents[intent_id]["status"] == "requires_capture"
    with time_machine.travel(now() + timedelta(minutes=5)):
        assert void_steps_deliver() == {StepStatus.SUCCEEDED: 1}
    assert stripe_fake.intents[intent_id]["status"] == "canceled"
    assert Authorization.objects.get().status == AuthorizationStatus.VOIDED


def test_a_refused_card_stripe_cannot_be_asked_about_is_left_to_its_webhook(
    client, sent, stripe_fake, csr
):
    intent_id = confirm_in_the_browser(stripe_fake, intent_for(client, sent))
    link_revoke(link=sent.link, actor=csr)
    stripe_fake.inject("unavailable", path=f"/v1/payment_intents/{intent_id}", times=5)

    assert client.post(page_of(sent), {"payment_token": intent_id}).status_code == 404

    assert not Authorization.objects.exists()
    assert not GatewayStep.objects.exists()


def test_with_paypal_the_page_loads_the_sdk_and_allows_its_popup(client, sent, paypal_fake):
    response = client.get(page_of(sent))
    text = response.content.decode()
    assert f"{paypal_fake.url}/sdk/js?client-id={paypal_api.CLIENT_ID}" in text
    assert "intent=authorize" in text
    assert paypal_fake.url in policy(response)["script-src"]
    assert "'nonce-" in policy(response)["style-src"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"


def test_paypal_buttons_order_is_authorized_when_the_payer_approved_it(client, sent, paypal_fake):
    answer = client.post(f"{page_of(sent)}/paypal/order", "{}", content_type="application/json")
    assert answer.status_code == 200, answer.content
    order_id = answer.json()["id"]
    assert paypal_fake.orders[order_id]["intent"] == "AUTHORIZE"
    paypal_fake.approve(order_id)

    done = client.post(f"{page_of(sent)}/paypal/return")

    assert done.status_code == 302 and done["Location"].endswith("/done")
    authorization = Authorization.objects.get()
    assert (authorization.status, authorization.gateway) == ("authorized", "paypal")


def test_another_browser_cannot_complete_the_paypal_order(client, sent, paypal_fake):
    order_id = client.post(f"{page_of(sent)}/paypal/order").json()["id"]
    paypal_fake.approve(order_id)

    stranger = Client().post(f"{page_of(sent)}/paypal/return")

    assert stranger.status_code == 302 and stranger["Location"].endswith(page_of(sent))
    assert not Authorization.objects.exists()
