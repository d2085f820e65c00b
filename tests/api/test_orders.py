"""API behaviour: the storefront's checkout, idempotency, errors, filters and order detail."""

import json
import threading

import pytest
from django.core.management import call_command

from orderdesk.api.keys import api_key_authenticate
from orderdesk.orders.models import Order, PaymentState
from orderdesk.payments.models import Authorization
from tests.factories import DECLINE_CARD, authorize, card_token, make_order

pytestmark = pytest.mark.django_db


def checkout(**overrides):
    body = {
        "account": {"email": "pat@example.com", "name": "Pat Doe", "phone": "555-0101"},
        "kind": "sale",
        "payment_method": "card",
        "currency": "USD",
        "lines": [
            {"description": "Phone case", "unit_price": 1_999, "quantity": 2, "sku": "CASE-1"},
            {"description": "Shipping", "unit_price": 500},
        ],
    }
    body.update(overrides)
    return body


class TestCheckout:
    def test_creates_the_order_and_authorizes_its_total_at_checkout(self, csr_api):
        response = csr_api.post("/orders", checkout(payment_token=card_token()))
        assert response.status_code == 201, response.content
        order = response.json()
        assert order["total"] == 4_498
        assert order["quoted_total"] == 4_498
        assert order["payment_state"] == PaymentState.AUTHORIZED
        assert order["authorized_amount"] == 4_498
        assert [a["status"] for a in order["authorizations"]] == ["authorized"]
        assert order["authorizations"][0]["instrument"].endswith("4242")
        assert order["payment_expires_at"]
        assert order["account"]["email"] == "pat@example.com"

    def test_an_existing_account_is_reused_by_e_mail(self, csr_api):
        csr_api.post("/orders", checkout())
        csr_api.post("/orders", checkout(account={"email": "PAT@example.com", "name": "P"}))
        assert Order.objects.values("account").distinct().count() == 1

    def test_a_declined_card_still_creates_the_order_marked_failed(self, csr_api):
        response = csr_api.post("/orders", checkout(payment_token=card_token(DECLINE_CARD)))
        assert response.status_code == 201
        assert response.json()["payment_state"] == PaymentState.FAILED

    def test_a_zero_dollar_repair_quote(self, csr_api):
        body = checkout(kind="repair", lines=[{"description": "Diagnosis", "unit_price": 0}])
        response = csr_api.post("/orders", {**body, "quoted_total": 0})
        assert response.status_code == 201
        assert response.json()["payment_state"] == PaymentState.AWAITING_PRICE

    def test_a_number_a_client_took_never_blocks_the_sequence(self, csr_api):
        following = int(make_order().number) + 1
        assert csr_api.post("/orders", checkout(number=str(following))).status_code == 201
        response = csr_api.post("/orders", checkout())
        assert response.status_code == 201, response.content
        assert response.json()["number"] == str(following + 1)

    def test_a_taken_number_is_refused_by_name(self, csr_api):
        make_order(number="WEB-9")
        response = csr_api.post("/orders", checkout(number="WEB-9"))
        assert response.status_code == 409
        assert "WEB-9" in response.content.decode()

    def test_the_storefront_number_is_kept_and_never_reused(self, csr_api):
        assert csr_api.post("/orders", checkout(number="WEB-77")).status_code == 201
        response = csr_api.post("/orders", checkout(number="WEB-77"))
        assert response.status_code == 409
        assert response.json()["detail"][0]["field"] == "number"

    def test_nothing_to_authorize_on_terms(self, csr_api):
        response = csr_api.post(
            "/orders", checkout(payment_method="terms", payment_token=card_token())
        )
        assert response.status_code == 409
        assert not Order.objects.exists()


class TestIdempotency:
    def test_a_retried_post_returns_the_first_response_and_authorizes_once(self, csr_api):
        body = checkout(payment_token=card_token())
        headers = {"Idempotency-Key": "checkout-123"}
        first = csr_api.post("/orders", body, headers=headers)
        second = csr_api.post("/orders", body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second["Idempotent-Replayed"] == "true"
        assert Order.objects.count() == 1
        assert Authorization.objects.count() == 1

    def test_the_same_key_with_another_body_is_refused(self, csr_api):
        headers = {"Idempotency-Key": "checkout-9"}
        csr_api.post("/orders", checkout(), headers=headers)
        response = csr_api.post("/orders", checkout(currency="EUR"), headers=headers)
        assert response.status_code == 409
        assert response.json()["detail"][0]["field"] == "Idempotency-Key"
        assert Order.objects.count() == 1

    def test_keys_belong_to_their_user(self, csr_api, supervisor_api):
        headers = {"Idempotency-Key": "shared"}
        csr_api.post("/orders", checkout(), headers=headers)
        assert supervisor_api.post("/orders", checkout(), headers=headers).status_code == 201
        assert Order.objects.count() == 2

    def test_a_failed_request_leaves_the_key_free_for_a_corrected_retry(self, csr_api):
        headers = {"Idempotency-Key": "k1"}
        make_order(number="TAKEN")
        assert csr_api.post("/orders", checkout(number="TAKEN"), headers=headers).status_code == 409
        response = csr_api.post("/orders", checkout(number="TAKEN"), headers=headers)
        assert response.status_code == 409

    @pytest.mark.postgres_only
    @pytest.mark.django_db(transaction=True)
    def test_concurrent_retries_create_one_order(self, csr):
        from django.db import connections

        from tests.api.conftest import ApiClient, key_for

        key = key_for(csr)
        body = checkout(payment_token=card_token())
        statuses = []

        def attempt():
            try:
                response = ApiClient(key).post("/orders", body, headers={"Idempotency-Key": "race"})
                statuses.append(response.status_code)
            finally:
                connections.close_all()  # orderdesk's and the gateway ledger's

        threads = [threading.Thread(target=attempt) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert Order.objects.count() == 1
        assert Authorization.objects.count() == 1
        assert set(statuses) <= {201, 409}


class TestErrors:
    def test_validation_errors_name_the_field(self, csr_api):
        body = checkout(lines=[{"description": "x", "unit_price": -1}])
        response = csr_api.post("/orders", body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["field"] == "lines.0.unit_price"

    @pytest.mark.parametrize(
        "body",
        [
            checkout(lines=[{"description": "bad\x00", "unit_price": 1}]),
            checkout(account={"email": "a@example.com", "name": "Nul\x00"}),
        ],
    )
    def test_nul_characters_are_refused_clearly(self, csr_api, body):
        response = csr_api.post("/orders", body)
        assert response.status_code == 422
        assert "NUL" in response.json()["detail"][0]["reason"]
        assert not Order.objects.exists()

    def test_nul_in_a_query_or_path_is_refused(self, csr_api):
        assert csr_api.get("/orders?search=a%00b").status_code == 422
        assert csr_api.get("/orders/12%0034").status_code == 422

    def test_money_is_integers_not_floats(self, csr_api):
        body = checkout(lines=[{"description": "x", "unit_price": 12.5}])
        assert csr_api.post("/orders", body).status_code == 422

    def test_malformed_json_is_a_400(self, csr_api):
        response = csr_api.client.post(
            "/api/orders",
            data="{not json",
            content_type="application/json",
            headers=csr_api.headers,
        )
        assert response.status_code == 400
        assert response.json()["detail"][0]["reason"]

    def test_a_bare_string_body_is_refused(self, csr_api):
        response = csr_api.client.post(
            "/api/orders",
            data=json.dumps("title"),
            content_type="application/json",
            headers=csr_api.headers,
        )
        assert response.status_code == 422

    def test_unknown_order_is_404(self, csr_api):
        response = csr_api.get("/orders/999999")
        assert response.status_code == 404
        assert response.json() == {"detail": [{"field": "", "reason": "Not found."}]}

    def test_a_shipment_whose_capture_answer_was_lost_is_accepted_not_done(self, csr_api):
        """202: the order stays ready to ship until reconciliation confirms the capture."""
        from orderdesk.payments.gateways.sandbox import TIMEOUT, inject_faults

        order = make_order(status="ready_to_ship")
        authorize(order)
        with inject_faults(TIMEOUT, operation="capture"):
            response = csr_api.post(f"/orders/{order.number}/ship", {})
        assert response.status_code == 202, response.content
        assert response.json()["status"] == "ready_to_ship"
        shipped = make_order(status="ready_to_ship")
        authorize(shipped)
        response = csr_api.post(f"/orders/{shipped.number}/ship", {})
        assert (response.status_code, response.json()["status"]) == (200, "shipped")

    def test_a_refused_shipment_says_why(self, csr_api):
        order = make_order(status="ready_to_ship")
        response = csr_api.post(f"/orders/{order.number}/ship", {})
        assert response.status_code == 409
        assert "not secured" in response.json()["detail"][0]["reason"]


class TestReading:
    def test_filters_and_pagination(self, csr_api):
        authorized = make_order()
        authorize(authorized)
        unpaid = [make_order() for _ in range(3)]
        page = csr_api.get("/orders?unpaid=true&limit=2").json()
        assert page["count"] == 3
        assert len(page["items"]) == 2
        assert {i["number"] for i in page["items"]} <= {o.number for o in unpaid}
        page = csr_api.get("/orders?payment_state=authorized").json()
        assert [i["number"] for i in page["items"]] == [authorized.number]
        page = csr_api.get(f"/orders?search={authorized.account.ecommerce_email}").json()
        assert [i["number"] for i in page["items"]] == [authorized.number]
        assert csr_api.get("/orders?limit=201").status_code == 422

    def test_an_order_shows_its_replacement_both_ways(self, csr_api):
        old = make_order()
        new = make_order(account=old.account, number=f"{old.number}-1", supersedes=old)
        assert csr_api.get(f"/orders/{old.number}").json()["superseded_by"] == new.number
        assert csr_api.get(f"/orders/{new.number}").json()["supersedes"] == old.number

    def test_the_unpaid_panel_lists_failed_first(self, csr_api):
        failed = make_order()
        authorize(failed, DECLINE_CARD)
        unauthorized = make_order()
        panel = csr_api.get("/unpaid").json()
        assert [row["number"] for row in panel["rows"]] == [failed.number, unauthorized.number]
        assert panel["counts"]["failed"] == 1

    def test_actions_write_the_timeline(self, csr_api):
        order = make_order()
        csr_api.post(f"/orders/{order.number}/notes", {"text": "Called the customer"})
        csr_api.put(
            f"/orders/{order.number}/estimated-delivery-date",
            {"estimated_delivery_date": "2031-05-01"},
        )
        detail = csr_api.get(f"/orders/{order.number}").json()
        assert detail["estimated_delivery_date"] == "2031-05-01"
        kinds = [event["kind"] for event in detail["timeline"]]
        assert kinds[:2] == ["delivery_date_set", "note"]
        assert detail["timeline"][1]["who"] == "Csr Person"


def test_createapikey_prints_a_key_that_is_stored_only_hashed(csr, capsys):
    call_command("createapikey", "storefront", "--user", csr.username)
    key = capsys.readouterr().out.strip()
    assert key.startswith("od_")
    assert api_key_authenticate(key) == csr
    from orderdesk.api.models import ApiKey

    stored = ApiKey.objects.get()
    assert key.split("_", 2)[2] not in (stored.secret_hash, stored.prefix)


def test_a_number_is_not_taken_for_an_estimated_delivery_date(csr_api):
    order = make_order()
    response = csr_api.put(
        f"/orders/{order.number}/estimated-delivery-date", {"estimated_delivery_date": 0}
    )
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["field"].endswith("estimated_delivery_date")
    order.refresh_from_db()
    assert order.estimated_delivery_date is None
