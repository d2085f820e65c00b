"""API keys from the `orderdesk` command: made once, listed, revoked; a read key only reads."""

import pytest

from orderdesk.api.keys import api_key_authenticate
from orderdesk.api.models import ApiKey
from orderdesk.cli import main
from tests.api.conftest import ApiClient
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def create(capsys, *argv):
    assert main(["apikey", "create", *argv]) == 0
    return capsys.readouterr().out.strip()


def test_orderdesk_apikey_create_prints_a_key_that_acts_as_the_user(csr, capsys):
    key = create(capsys, "storefront", "--user", csr.username)

    assert api_key_authenticate(key) == csr
    stored = ApiKey.objects.get()
    assert (stored.name, stored.scope) == ("storefront", "write")
    assert key.split("_", 2)[2] not in (stored.secret_hash, stored.prefix)


def test_orderdesk_apikey_list_shows_keys_without_their_secrets(csr, capsys):
    key = create(capsys, "reporting", "--user", csr.username, "--scope", "read")

    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    prefix = ApiKey.objects.get().prefix
    assert f"{prefix}\treporting\t{csr.username}\tread\t" in listing
    assert key.split("_", 2)[2] not in listing


def test_orderdesk_apikey_revoke_stops_the_key(csr, capsys):
    key = create(capsys, "storefront", "--user", csr.username)
    prefix = ApiKey.objects.get().prefix

    assert main(["apikey", "revoke", prefix]) == 0

    assert api_key_authenticate(key) is None
    assert ApiKey.objects.get().revoked_at is not None


def test_a_read_key_reads_but_may_not_write(csr, capsys):
    order = make_order()
    reader = ApiClient(create(capsys, "reporting", "--user", csr.username, "--scope", "read"))

    assert reader.get(f"/orders/{order.number}").status_code == 200
    answer = reader.post(f"/orders/{order.number}/notes", {"text": "hello"})

    assert answer.status_code == 403
    assert "scope read" in answer.json()["detail"][0]["reason"]
    assert not order.events.filter(kind="note").exists()
