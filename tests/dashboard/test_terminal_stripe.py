"""The virtual terminal with Stripe.js (over HTTP, against the Stripe fake): the card a
customer reads out by phone is confirmed by Stripe in the CSR's browser; orderdesk makes
the PaymentIntent and records the confirmed hold, and releases one it must refuse."""

import pytest
from django.test import Client

from orderdesk.payments.models import Authorization, StepStatus
from orderdesk.payments.services import void_steps_deliver
from tests.contract.fakes import stripe_api
from tests.factories import make_order
from tests.links.test_gateway_scripts import confirm_in_the_browser, policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_fake(settings):
    with stripe_api.stripe_serving(settings, ORDERDESK_GATEWAY="stripe") as server:
        yield server


@pytest.fixture
def csr_client(csr):
    client = Client()
    client.force_login(csr)
    return client


def intent_for(client, order) -> str:
    answer = client.post(f"/orders/{order.number}/card/intent")
    assert answer.status_code == 200, answer.content
    return answer.json()["client_secret"]


def test_the_order_screen_loads_stripe_js_with_a_policy_for_its_origin(csr_client, stripe_fake):
    order = make_order(total=7_500)
    response = csr_client.get(f"/orders/{order.number}/")
    text = response.content.decode()
    assert f'src="{stripe_fake.url}/v3/"' in text and "/sandbox/" not in text
    assert f'data-intent-url="/orders/{order.number}/card/intent"' in text
    assert policy(response)["script-src"] == f"'self' {stripe_fake.url}"


def test_a_terminal_intent_needs_a_logged_in_csr(stripe_fake):
    order = make_order(total=7_500)
    answer = Client().post(f"/orders/{order.number}/card/intent")
    assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert stripe_fake.intents == {}


def test_the_second_card_confirmed_for_an_order_already_secured_is_released(
    csr_client, stripe_fake
):
    order = make_order(total=7_500)
    first = confirm_in_the_browser(stripe_fake, intent_for(csr_client, order))
    second = confirm_in_the_browser(stripe_fake, intent_for(csr_client, order))  # a 2nd CSR

    csr_client.post(f"/orders/{order.number}/card", {"payment_token": first})
    refused = csr_client.post(f"/orders/{order.number}/card", {"payment_token": second})

    assert refused.status_code == 400 and "already secured" in refused.content.decode()
    assert void_steps_deliver() == {StepStatus.SUCCEEDED: 1}  # the worker releases it
    kept, released = Authorization.objects.order_by("pk")
    assert (kept.status, kept.gateway_reference) == ("authorized", first)
    assert (released.status, released.gateway_reference) == ("voided", second)
    assert released.source == "manual"
    assert stripe_fake.intents[first]["status"] == "requires_capture"
    assert stripe_fake.intents[second]["status"] == "canceled"
    order.refresh_from_db()
    assert order.authorized_amount == 7_500
