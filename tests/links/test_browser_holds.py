"""A card confirmed by Stripe.js whose browser never posted it back (the window closed):
Stripe's `payment_intent.amount_capturable_updated` tells orderdesk of the hold, and once the
browser had its time the worker records it through the open link, or records and releases
it, exactly once per event (through the real stripe library, against the Stripe fake)."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from orderdesk.common.clock import now
from orderdesk.links.models import LinkStatus, PaymentLink
from orderdesk.links.services import browser_holds_adopt, link_revoke, link_send_reauthorization
from orderdesk.links.services.browser import ADOPT_AFTER
from orderdesk.operations.maintenance import JOBS
from orderdesk.orders.models import PaymentState
from orderdesk.payments.models import (
    Authorization,
    AuthorizationStatus,
    GatewayEvent,
    GatewayEventOutcome,
    StepStatus,
)
from orderdesk.payments.services import card_intent_create, void_steps_deliver
from tests.api.test_webhooks import STRIPE_SECRET, stripe_send
from tests.contract.fakes import stripe_api
from tests.factories import make_order
from tests.links.test_gateway_scripts import confirm_in_the_browser, intent_for, page_of

pytestmark = pytest.mark.django_db
CAPTURABLE = "payment_intent.amount_capturable_updated"


@pytest.fixture
def stripe_fake(settings):
    with stripe_api.stripe_serving(
        settings, ORDERDESK_GATEWAYS="card:stripe", ORDERDESK_STRIPE_WEBHOOK_SECRET=STRIPE_SECRET
    ) as server:
        yield server


@pytest.fixture
def sent(csr):
    return link_send_reauthorization(order=make_order(total=15_000), actor=csr)


def confirmed_and_abandoned(stripe_fake, sent) -> str:
    """The customer's card confirmed at Stripe; the page never posts the intent back."""
    return confirm_in_the_browser(stripe_fake, intent_for(Client(), sent))


def stripe_tells(stripe_fake, intent_id, event_id="evt_capturable"):
    answer = stripe_send(CAPTURABLE, dict(stripe_fake.intents[intent_id]), event_id=event_id)
    assert answer.status_code == 200, answer.content
    return answer.json()["outcome"]


def after_the_grace(seconds=1):
    return time_machine.travel(now() + ADOPT_AFTER + timedelta(seconds=seconds))


def test_an_abandoned_card_is_recorded_through_its_open_link_once(stripe_fake, sent):
    intent_id = confirmed_and_abandoned(stripe_fake, sent)

    assert stripe_tells(stripe_fake, intent_id) == GatewayEventOutcome.UNRECORDED_HOLD
    with after_the_grace():
        assert browser_holds_adopt() == 1
        assert stripe_tells(stripe_fake, intent_id) == GatewayEventOutcome.APPLIED  # replayed
        assert browser_holds_adopt() == 0

    authorization = Authorization.objects.get()
    assert (authorization.status, authorization.gateway_reference) == ("authorized", intent_id)
    assert PaymentLink.objects.get(pk=sent.link.pk).status == LinkStatus.COMPLETED
    order = authorization.order
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    assert stripe_fake.intents[intent_id]["status"] == "requires_capture"


def test_the_browser_has_until_the_end_of_the_grace_to_post_the_card_back(stripe_fake, sent):
    intent_id = confirmed_and_abandoned(stripe_fake, sent)
    stripe_tells(stripe_fake, intent_id)
    received = GatewayEvent.objects.get().received_at

    with time_machine.travel(received + ADOPT_AFTER, tick=False):
        assert browser_holds_adopt() == 0
    assert not Authorization.objects.exists()
    with time_machine.travel(received + ADOPT_AFTER + timedelta(microseconds=1), tick=False):
        assert browser_holds_adopt() == 1
    assert Authorization.objects.get().status == AuthorizationStatus.AUTHORIZED


def test_a_card_the_browser_posted_back_after_the_webhook_is_left_alone(stripe_fake, sent):
    intent_id = confirmed_and_abandoned(stripe_fake, sent)
    stripe_tells(stripe_fake, intent_id)

    Client().post(page_of(sent), {"payment_token": intent_id})  # the page's own post, late
    with after_the_grace():
        assert browser_holds_adopt() == 1

    assert Authorization.objects.get().gateway_reference == intent_id
    assert GatewayEvent.objects.get().outcome == GatewayEventOutcome.NO_CHANGE
    assert stripe_fake.intents[intent_id]["status"] == "requires_capture"


def test_an_abandoned_card_for_a_closed_link_is_recorded_and_released(stripe_fake, sent, csr):
    intent_id = confirmed_and_abandoned(stripe_fake, sent)
    link_revoke(link=sent.link, actor=csr)
    stripe_tells(stripe_fake, intent_id)

    with after_the_grace():
        assert browser_holds_adopt() == 1
        assert void_steps_deliver() == {StepStatus.SUCCEEDED: 1}

    authorization = Authorization.objects.get()
    assert (authorization.status, authorization.gateway_reference) == ("voided", intent_id)
    assert stripe_fake.intents[intent_id]["status"] == "canceled"
    assert authorization.order.events.filter(message__contains="no open link takes it").exists()


def test_an_abandoned_virtual_terminal_card_is_released(stripe_fake, csr):
    order = make_order(total=7_500)
    intent = card_intent_create(order=order, source="manual", actor=csr)
    confirm_in_the_browser(stripe_fake, intent.client_secret)
    stripe_tells(stripe_fake, intent.reference)

    with after_the_grace():
        assert browser_holds_adopt() == 1
        void_steps_deliver()

    assert Authorization.objects.get().status == AuthorizationStatus.VOIDED
    assert stripe_fake.intents[intent.reference]["status"] == "canceled"


def test_an_abandoned_card_waits_while_stripe_does_not_answer(stripe_fake, sent):
    intent_id = confirmed_and_abandoned(stripe_fake, sent)
    stripe_tells(stripe_fake, intent_id)
    stripe_fake.inject("unavailable", path=f"/v1/payment_intents/{intent_id}", times=1)

    with after_the_grace():
        assert browser_holds_adopt() == 0
    assert not Authorization.objects.exists()
    assert GatewayEvent.objects.get().outcome == GatewayEventOutcome.UNRECORDED_HOLD
    with after_the_grace(seconds=60):
        assert browser_holds_adopt() == 1
    assert Authorization.objects.get().status == AuthorizationStatus.AUTHORIZED


def test_a_hold_orderdesk_did_not_ask_for_stays_an_unknown_reference(stripe_fake, sent):
    intent_id = confirmed_and_abandoned(stripe_fake, sent)
    intent = dict(stripe_fake.intents[intent_id], metadata={})

    answer = stripe_send(CAPTURABLE, intent, event_id="evt_foreign")

    assert answer.json()["outcome"] == GatewayEventOutcome.UNKNOWN_REFERENCE
    with after_the_grace():
        assert browser_holds_adopt() == 0


def test_abandoned_holds_are_settled_by_the_worker_schedule():
    assert "orderdesk.links.services.browser_holds_adopt" in JOBS


def test_metrics_show_the_holds_waiting_to_be_recorded(stripe_fake, sent, supervisor):
    intent_id = confirmed_and_abandoned(stripe_fake, sent)
    stripe_tells(stripe_fake, intent_id)
    client = Client()
    client.force_login(supervisor)

    assert "orderdesk_browser_holds_unrecorded 1.0" in client.get("/metrics").content.decode()
    with after_the_grace():
        browser_holds_adopt()
    assert "orderdesk_browser_holds_unrecorded 0.0" in client.get("/metrics").content.decode()
