"""The audit of staff interventions: who, when, what and why, filtered and exported; read-only."""

import csv
import io
import json

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from orderdesk.api.keys import api_key_create, api_key_revoke
from orderdesk.links.services import link_send_reauthorization
from orderdesk.orders.models import OrderEvent
from orderdesk.payments.models import AuthorizationSource
from orderdesk.payments.services import authorization_request, external_payment_record
from orderdesk.security.models import SecurityEvent
from orderdesk.workflows import cancellation, shipping
from tests.factories import authorize, card_token, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def interventions(csr, supervisor, settings):
    settings.AXES_FAILURE_LIMIT = 2
    retriggered = make_order(number="AU-1")
    authorize(retriggered)
    link_send_reauthorization(order=retriggered, actor=csr)
    keyed = make_order(number="AU-2")
    authorization_request(
        order=keyed,
        payment_token=card_token(),
        method="card",
        source=AuthorizationSource.MANUAL,
        actor=csr,
    )
    overridden = make_order(number="AU-3", status="ready_to_ship")
    shipping.order_ship(order=overridden, actor=supervisor, override_reason="customer paid cash")
    cancelled = make_order(number="AU-4")
    cancellation.order_cancel(order=cancelled, actor=supervisor, note="customer asked")
    paid = make_order(number="AU-5", total=5_000)
    external_payment_record(
        order=paid, amount=5_000, reference="BANK-77", reason="wire transfer", actor=supervisor
    )
    key, _ = api_key_create(name="storefront", username=supervisor.username)
    api_key_revoke(prefix=key.prefix)
    for _ in range(2):
        Client().post(
            "/login/", {"username": csr.username, "password": "nope"}, REMOTE_ADDR="10.7.0.1"
        )
    return key


def entries_of(response):
    return json.loads(b"".join(response.streaming_content))


def supervisor_client(supervisor):
    client = Client()
    client.force_login(supervisor)
    return client


def test_every_kind_of_intervention_is_in_the_export_with_who_and_why(
    interventions, csr, supervisor
):
    entries = entries_of(supervisor_client(supervisor).get("/security/audit/?format=json"))
    by_action = {}
    for entry in entries:
        by_action.setdefault(entry["action"], []).append(entry)
    assert set(by_action) == {
        "link_sent",
        "manual_card",
        "overridden",
        "cancelled",
        "external_payment",
        "api_key_created",
        "api_key_revoked",
        "locked_out",
    }
    assert by_action["link_sent"][0]["who"] == csr.username
    assert by_action["link_sent"][0]["subject"] == "order AU-1"
    assert by_action["manual_card"][0]["subject"] == "order AU-2"
    assert by_action["overridden"][0]["why"] == "customer paid cash"
    assert by_action["overridden"][0]["who"] == supervisor.username
    assert by_action["external_payment"][0]["why"] == "wire transfer"
    assert "customer asked" in by_action["cancelled"][0]["what"]
    assert interventions.prefix in by_action["api_key_revoked"][0]["subject"]
    assert f"user {csr.username}" in by_action["locked_out"][0]["subject"]
    times = [entry["at"] for entry in entries]
    assert times == sorted(times, reverse=True)


def test_storefront_authorizations_and_customer_steps_are_not_interventions(csr, supervisor):
    authorize(make_order(number="AU-9"))
    entries = entries_of(supervisor_client(supervisor).get("/security/audit/?format=json"))
    assert entries == []


def test_the_audit_filters_by_action_person_order_and_day(interventions, csr, supervisor):
    client = supervisor_client(supervisor)
    only = entries_of(client.get("/security/audit/?format=json&action=overridden"))
    assert [entry["subject"] for entry in only] == ["order AU-3"]
    by_csr = entries_of(client.get(f"/security/audit/?format=json&who={csr.username}"))
    assert {entry["action"] for entry in by_csr} == {"link_sent", "manual_card", "locked_out"}
    order = entries_of(client.get("/security/audit/?format=json&order=AU-4"))
    assert [entry["action"] for entry in order] == ["cancelled"]
    none = entries_of(client.get("/security/audit/?format=json&until=2000-01-01"))
    assert none == []


def test_a_bad_filter_is_answered_with_a_clear_error(supervisor):
    response = supervisor_client(supervisor).get(
        "/security/audit/?since=2026-05-02&until=2026-05-01"
    )
    assert response.status_code == 400
    assert "The first day comes after the last day." in response.content.decode()


def test_the_csv_export_neutralizes_formulas_and_the_screen_lists_the_interventions(
    interventions, supervisor
):
    client = supervisor_client(supervisor)
    response = client.get("/security/audit/?format=csv&action=external_payment")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["When", "Who", "Action", "Subject", "What", "Why"]
    assert rows[1][2] == "External payment recorded" and rows[1][5] == "wire transfer"
    assert "no-store" in response["Cache-Control"]
    screen = client.get("/security/audit/").content.decode()
    assert "Ship gate overridden" in screen and "customer paid cash" in screen


def test_a_csr_cannot_read_the_audit(csr):
    client = Client()
    client.force_login(csr)
    assert client.get("/security/audit/").status_code == 403
    assert client.get("/security/audit/?format=csv").status_code == 403


def test_the_records_cannot_be_edited_or_deleted_in_the_admin_or_the_application(interventions):
    request = RequestFactory().get("/admin/")
    from django.contrib.auth import get_user_model

    request.user = get_user_model().objects.create_superuser("root", "r@example.com", "x")
    for model in (OrderEvent, SecurityEvent):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_add_permission(request)
    event = SecurityEvent.objects.first()
    event.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
