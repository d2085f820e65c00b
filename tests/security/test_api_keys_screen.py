"""The supervisor's API keys screen: every key with its use, and a revoke button."""

import pytest
from django.test import Client

from orderdesk.api.keys import api_key_authenticate, api_key_create
from orderdesk.api.models import ApiKey

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_supervisor_sees_every_key_with_its_scope_and_never_its_secret(supervisor, csr):
    _, secret = api_key_create(name="storefront", username=csr.username, scope="read")

    page = logged_in(supervisor).get("/security/api-keys/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "storefront" in text and csr.username in text and "Read only" in text
    assert secret.split("_", 2)[2] not in text
    assert "never" in text  # not used yet


def test_a_supervisor_revokes_a_key_and_it_stops_working(supervisor, csr):
    api_key, secret = api_key_create(name="storefront", username=csr.username)

    answer = logged_in(supervisor).post("/security/api-keys/revoke", {"prefix": api_key.prefix})

    assert answer.status_code == 302
    assert api_key_authenticate(secret) is None
    assert ApiKey.objects.get().revoked_at is not None


def test_a_csr_may_neither_see_nor_revoke_keys(csr):
    api_key, secret = api_key_create(name="storefront", username=csr.username)
    client = logged_in(csr)

    assert client.get("/security/api-keys/").status_code == 403
    assert client.post("/security/api-keys/revoke", {"prefix": api_key.prefix}).status_code == 403
    assert api_key_authenticate(secret) == csr
