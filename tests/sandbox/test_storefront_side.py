"""The sandbox's storefront side, and no card number reaching orderdesk when Stripe is used."""

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from orderdesk.payments.models import Authorization
from orderdesk.sandbox.models import SandboxTransaction
from tests.api.conftest import ApiClient, key_for
from tests.factories import APPROVE_CARD, DECLINE_CARD, card_token, make_order

pytestmark = pytest.mark.django_db


def storefront_authorize(token, amount=5_500, key="checkout-1"):
    return Client().post(
        "/sandbox/authorizations",
        data=json.dumps({"token": token, "amount": amount, "currency": "USD"}),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def test_the_storefront_authorizes_at_the_sandbox_and_orderdesk_records_that_hold(csr):
    answer = storefront_authorize(card_token())
    assert answer.status_code == 201, answer.content
    hold = answer.json()
    assert (hold["status"], hold["card_last4"]) == ("authorized", "4242")

    created = ApiClient(key_for(csr)).post(
        "/orders",
        {
            "account": {"name": "Cy Shopper", "email": "cy@example.com"},
            "kind": "sale",
            "payment_method": "card",
            "lines": [{"description": "Charger", "unit_price": 5_500}],
            "authorization": {
                "gateway": "sandbox",
                "reference": hold["reference"],
                "amount": 5_500,
                "authorized_at": hold["authorized_at"],
            },
        },
    )

    assert created.status_code == 201, created.content
    assert created.json()["payment_state"] == "authorized"
    assert Authorization.objects.get().gateway_reference == hold["reference"]


def test_the_same_idempotency_key_authorizes_once_at_the_sandbox():
    first = storefront_authorize(card_token(), key="same")
    again = storefront_authorize(card_token(), key="same")
    assert first.json()["reference"] == again.json()["reference"]
    assert SandboxTransaction.objects.filter(kind="authorization").count() == 1


def test_a_declined_card_at_the_sandbox_answers_402_with_the_reason():
    answer = storefront_authorize(card_token(DECLINE_CARD))
    assert (answer.status_code, answer.json()["decline_code"]) == (402, "card_declined")


def test_the_sandbox_endpoints_do_not_exist_when_the_sandbox_is_not_in_use(settings):
    settings.ORDERDESK_GATEWAY = "stripe"
    settings.ORDERDESK_GATEWAYS = "paypal:paypal"
    assert storefront_authorize("tok_x").status_code == 404
    card = {"number": APPROVE_CARD, "exp_month": 12, "exp_year": 2099, "cvc": "123"}
    tokens = Client().post("/sandbox/tokens", data=card, content_type="application/json")
    assert tokens.status_code == 404


def _paths(resolver=None, prefix=""):
    """Every URL orderdesk serves, with a stand-in for each argument."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _paths(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def _concrete(route: str, number: str) -> str:
    import re

    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<[^>]+>", number, route)
    route = re.sub(r"\(\?P<[^>]+>[^)]*\)", "x", route)
    return "/" + route.replace("\\", "")


@pytest.mark.parametrize("who", ["anonymous", "csr"])
def test_a_card_number_posted_to_every_orderdesk_url_with_stripe_is_refused(settings, who, csr):
    settings.ORDERDESK_GATEWAY = "stripe"
    settings.ORDERDESK_STRIPE_SECRET_KEY = "sk_test_not_used"
    settings.ORDERDESK_STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing may reach a gateway
    order = make_order()
    client = Client()
    if who == "csr":
        client.force_login(csr)
    card = {
        "number": APPROVE_CARD,
        "card_number": APPROVE_CARD,
        "cvc": "123",
        "exp_month": "12",
        "exp_year": "2099",
        "payment_token": APPROVE_CARD,
    }
    tried = 0
    for route in sorted(set(_paths())):
        path = _concrete(route, order.number)
        if path.startswith("/static"):
            continue
        for send in (
            lambda p: client.post(p, data=card),
            lambda p: client.post(p, data=json.dumps(card), content_type="application/json"),
        ):
            answer = send(path)
            tried += 1
            body = answer.content.decode(errors="replace") if hasattr(answer, "content") else ""
            assert APPROVE_CARD not in body, path
            assert not (path.startswith("/sandbox") and answer.status_code < 400), path
    assert tried > 40
    assert not Authorization.objects.exists()
    assert not SandboxTransaction.objects.exists()


def test_with_every_method_named_elsewhere_the_default_sandbox_takes_no_card(settings):
    settings.ORDERDESK_GATEWAY = "sandbox"
    settings.ORDERDESK_GATEWAYS = "card:stripe,paypal:paypal"
    card = {"number": APPROVE_CARD, "exp_month": 12, "exp_year": 2099, "cvc": "123"}
    assert (
        Client().post("/sandbox/tokens", card, content_type="application/json").status_code == 404
    )
    assert Client().get("/sandbox/card-form.js").status_code == 404
    assert storefront_authorize("tok_x").status_code == 404


def test_with_stripe_for_cards_and_the_sandbox_for_paypal_the_sandbox_takes_no_card(settings):
    settings.ORDERDESK_GATEWAYS = "card:stripe,paypal:sandbox"
    card = {"number": APPROVE_CARD, "exp_month": 12, "exp_year": 2099, "cvc": "123"}
    assert (
        Client().post("/sandbox/tokens", card, content_type="application/json").status_code == 404
    )
    assert Client().get("/sandbox/card-form.js").status_code == 404


def test_the_sandbox_card_script_is_served_while_the_sandbox_takes_cards(client):
    answer = client.get("/sandbox/card-form.js")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/javascript"
