"""The system check of the gateways' credentials: a warning while trying things out, an
error in production, silence when every configured gateway has what it needs."""

from pathlib import Path

from django.core import checks
from django.test import override_settings

from orderdesk.payments.checks import gateway_credentials_check
from tests.common.production import check_deploy

ROOT = Path(__file__).resolve().parents[2]
STRIPE_KEYS = {
    "ORDERDESK_STRIPE_SECRET_KEY": "sk_test_x",
    "ORDERDESK_STRIPE_PUBLISHABLE_KEY": "pk_test_x",
}
PAYPAL_KEYS = {"ORDERDESK_PAYPAL_CLIENT_ID": "client", "ORDERDESK_PAYPAL_CLIENT_SECRET": "secret"}


def _clean_environment(monkeypatch):
    for name in (*STRIPE_KEYS, *PAYPAL_KEYS):
        monkeypatch.delenv(name, raising=False)


def test_a_stripe_gateway_without_its_publishable_key_is_warned_about(monkeypatch):
    _clean_environment(monkeypatch)
    with override_settings(
        ORDERDESK_GATEWAY="sandbox",
        ORDERDESK_GATEWAYS="card:stripe",
        ORDERDESK_STRIPE_SECRET_KEY="sk_test_x",
        PRODUCTION=False,
    ):
        found = gateway_credentials_check()
    assert [(type(message), message.id) for message in found] == [
        (checks.Warning, "orderdesk.W001")
    ]
    assert "ORDERDESK_STRIPE_PUBLISHABLE_KEY is not set" in found[0].msg


def test_paypal_without_its_client_id_and_secret_is_an_error_in_production(monkeypatch):
    _clean_environment(monkeypatch)
    with override_settings(ORDERDESK_GATEWAY="paypal", ORDERDESK_GATEWAYS="", PRODUCTION=True):
        found = gateway_credentials_check()
    assert [(type(message), message.id) for message in found] == [(checks.Error, "orderdesk.E001")]
    assert "ORDERDESK_PAYPAL_CLIENT_ID, ORDERDESK_PAYPAL_CLIENT_SECRET are not set" in found[0].msg


def test_gateways_with_all_their_credentials_pass_the_check(monkeypatch):
    _clean_environment(monkeypatch)
    with override_settings(
        ORDERDESK_GATEWAY="sandbox",
        ORDERDESK_GATEWAYS="card:stripe,paypal:paypal",
        PRODUCTION=True,
        **STRIPE_KEYS,
        **PAYPAL_KEYS,
    ):
        assert gateway_credentials_check() == []


def test_an_unreadable_gateway_per_method_setting_is_reported(monkeypatch):
    with override_settings(ORDERDESK_GATEWAYS="card:nowhere", PRODUCTION=False):
        found = gateway_credentials_check()
    assert [message.id for message in found] == ["orderdesk.W002"]


def _check_deploy(tmp_path, **extra):
    return check_deploy(
        tmp_path,
        unset=(*STRIPE_KEYS, *PAYPAL_KEYS),
        **{"ORDERDESK_GATEWAYS": "card:stripe,paypal:paypal", **extra},
    )


def test_check_deploy_is_clean_in_production_with_stripe_and_paypal_configured(tmp_path):
    completed = _check_deploy(tmp_path, **STRIPE_KEYS, **PAYPAL_KEYS)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_check_deploy_fails_in_production_when_stripe_has_no_publishable_key(tmp_path):
    completed = _check_deploy(tmp_path, ORDERDESK_STRIPE_SECRET_KEY="sk_live_x", **PAYPAL_KEYS)
    assert completed.returncode != 0
    assert "orderdesk.E001" in completed.stderr
    assert "ORDERDESK_STRIPE_PUBLISHABLE_KEY is not set" in completed.stderr
