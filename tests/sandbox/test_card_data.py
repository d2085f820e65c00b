"""Card numbers and CVCs go only to the sandbox's tokenization: never to the database or logs."""

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.db import models

from orderdesk.sandbox import server
from orderdesk.sandbox.cards import CardRejected
from tests.factories import (
    APPROVE_CARD,
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
    PROCESSOR_ERROR_CARD,
    authorize,
    make_order,
)

pytestmark = pytest.mark.django_db

TEST_CARDS = [APPROVE_CARD, DECLINE_CARD, INSUFFICIENT_FUNDS_CARD, PROCESSOR_ERROR_CARD]
CVC = "7359"  # unusual enough to search for as a standalone value


def grouped(number):
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def every_text_value():
    """Every value of every text-like column of every table, as one string per value."""
    text_fields = (models.CharField, models.TextField, models.JSONField, models.BinaryField)
    for model in apps.get_models():
        columns = [f.attname for f in model._meta.concrete_fields if isinstance(f, text_fields)]
        if not columns:
            continue
        for row in model._base_manager.values_list(*columns):
            for value in row:
                if value is not None:
                    yield value if isinstance(value, str) else json.dumps(value, default=str)


def leaks(text):
    found = []
    for number in TEST_CARDS:
        for form in (number, grouped(number), number[:6] + number[-4:]):
            if form in text:
                found.append(form)
    if re.search(rf"(?<![0-9A-Za-z]){CVC}(?![0-9A-Za-z])", text):
        found.append("cvc")
    return found


@pytest.fixture
def sql_logging(settings, caplog):
    settings.DEBUG = True  # Django logs every SQL statement with its parameters when DEBUG
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    return caplog


def test_no_card_number_or_cvc_reaches_the_database_or_the_logs(client, sql_logging, csr):
    for number in TEST_CARDS:
        response = client.post(
            "/sandbox/tokens",
            {"number": grouped(number), "exp_month": 12, "exp_year": 2099, "cvc": CVC},
            content_type="application/json",
        )
        assert response.status_code == 200
        token = response.json()["token"]
        assert leaks(token) == []
        assert set(server.read_token(token)) == {"t", "b", "l", "o"}
        order = make_order()
        authorize(order, number, actor=csr)
        direct = server.tokenize_card(number=number, exp_month=1, exp_year=2099, cvc=CVC)
        authorize(make_order(), number, actor=csr)
        assert leaks(direct) == []
    # Rejections are logged ("Bad Request") without the card either.
    rejected = client.post(
        "/sandbox/tokens",
        {"number": APPROVE_CARD, "exp_month": 1, "exp_year": 2001, "cvc": CVC},
        content_type="application/json",
    )
    assert rejected.status_code == 400

    assert any("INSERT" in record.getMessage() for record in sql_logging.records), (
        "SQL logging was not captured; the check below would prove nothing"
    )
    logged = "\n".join(record.getMessage() for record in sql_logging.records)
    assert leaks(logged) == []
    stored = list(every_text_value())
    assert any(value == "4242" for value in stored)  # last 4 is kept, and the dump sees it
    assert [value for value in stored if leaks(value)] == []


@pytest.mark.parametrize(
    ("card", "field"),
    [
        ({"number": "4242424242424241"}, "number"),  # fails Luhn
        ({"number": "4242"}, "number"),
        ({"number": "not a number"}, "number"),
        ({"exp_month": 13}, "exp_month"),
        ({"exp_month": 0}, "exp_month"),
        ({"exp_year": 2026, "exp_month": 2}, "exp_year"),  # the month before today
        ({"cvc": "12"}, "cvc"),
        ({"cvc": "12a"}, "cvc"),
        ({"cvc": "12345"}, "cvc"),
    ],
)
def test_tokenization_rejects_bad_card_details_naming_the_field(card, field):
    details = {"number": APPROVE_CARD, "exp_month": 12, "exp_year": 2099, "cvc": "123"} | card
    with time_machine.travel(date(2026, 3, 15), tick=False), pytest.raises(CardRejected) as error:
        server.tokenize_card(**details)
    assert error.value.field == field


def test_a_card_expiring_this_month_is_still_accepted():
    with time_machine.travel(date(2026, 3, 31), tick=False):
        token = server.tokenize_card(number=APPROVE_CARD, exp_month=3, exp_year=26, cvc="123")
    assert server.read_token(token)["l"] == "4242"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number": "4242424242424241", "exp_month": 12, "exp_year": 2099, "cvc": "123"}, "number"),
        ({"number": APPROVE_CARD, "exp_month": 12, "exp_year": 2001, "cvc": "123"}, "exp_year"),
        ({"number": APPROVE_CARD, "exp_month": 12, "exp_year": 2099, "cvc": "1"}, "cvc"),
        ({"number": APPROVE_CARD, "exp_month": "December", "exp_year": 2099}, "exp_month"),
        ([APPROVE_CARD], "body"),
    ],
)
def test_the_tokens_endpoint_answers_400_naming_the_field(client, body, field):
    response = client.post("/sandbox/tokens", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_the_tokens_endpoint_takes_only_post(client):
    assert client.get("/sandbox/tokens").status_code == 405


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "gateways",
    [
        {"ORDERDESK_GATEWAY": "stripe"},
        {"ORDERDESK_GATEWAY": "sandbox", "ORDERDESK_GATEWAYS": "card:stripe,paypal:paypal"},
    ],
    ids=["stripe", "stripe-for-cards"],
)
def test_in_production_settings_with_stripe_every_url_refuses_a_card_number(tmp_path, gateways):
    """Every URL, anonymous and logged in, form and JSON: nothing echoed, authorized, stored
    (any text column of any table) or logged (every log line, with every SQL statement)."""
    environment = {
        **os.environ,
        "ORDERDESK_PRODUCTION": "true",
        "ORDERDESK_SECRET_KEY": secrets.token_urlsafe(64),
        "ORDERDESK_ALLOWED_HOSTS": "testserver",
        "ORDERDESK_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "orderdesk.settings",
        "ORDERDESK_STRIPE_SECRET_KEY": "sk_test_not_used",
        "ORDERDESK_STRIPE_PUBLISHABLE_KEY": "pk_test_not_used",
        "ORDERDESK_STRIPE_API_BASE": "http://127.0.0.1:9",  # nothing may reach a gateway
        "ORDERDESK_GATEWAYS": "",
        **gateways,
    }
    for test_only in ("ORDERDESK_DEBUG", "ORDERDESK_SANDBOX_DATABASE_URL"):
        environment.pop(test_only, None)
    completed = subprocess.run(
        [sys.executable, "-m", "tests.sandbox.production_probe"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    assert found["tried"] > 80
    assert found["sql_logged"], "SQL logging was not captured; the log check would prove nothing"
    assert (found["echoed"], found["sandbox_answered"]) == ([], [])
    assert (found["authorizations"], found["sandbox_transactions"]) == (0, 0)
    assert (found["stored"], found["logged"]) == ([], [])
