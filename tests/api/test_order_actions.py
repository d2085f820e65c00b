"""The order screen's payment actions through the API, with the screen's services and rules."""

import pytest

from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.notifications.models import OutboundEmail
from orderdesk.payments.models import Authorization, AuthorizationSource
from tests.api.conftest import ApiClient
from tests.factories import DECLINE_CARD, card_token, make_order

pytestmark = pytest.mark.django_db


def test_re_triggering_the_cart_through_the_api_emails_an_approve_order_payment_link(csr_api):
    order = make_order(total=8_000)

    answer = csr_api.post(f"/orders/{order.number}/reauthorization-links", {})

    assert answer.status_code == 201, answer.content
    link = PaymentLink.objects.get(order=order)
    assert answer.json()["link"]["id"] == link.pk
    assert (link.purpose, link.status, link.amount) == (LinkPurpose.REAUTHORIZATION, "open", 8_000)
    email = OutboundEmail.objects.get(order=order)
    assert "approve the payment" in email.subject


def test_a_second_re_trigger_soon_after_asks_for_confirmation_and_sends_nothing(csr_api):
    order = make_order(total=8_000)
    csr_api.post(f"/orders/{order.number}/reauthorization-links", {})

    again = csr_api.post(f"/orders/{order.number}/reauthorization-links", {})

    assert again.status_code == 409
    assert "anyway" in again.json()["detail"][0]["reason"]
    assert OutboundEmail.objects.filter(order=order).count() == 1
    confirmed = csr_api.post(f"/orders/{order.number}/reauthorization-links", {"confirm": True})
    assert confirmed.status_code == 201
    assert OutboundEmail.objects.filter(order=order).count() == 2


def test_a_retry_with_the_same_idempotency_key_sends_one_email(csr_api):
    order = make_order(total=8_000)
    headers = {"Idempotency-Key": "retrigger-1"}

    first = csr_api.post(f"/orders/{order.number}/reauthorization-links", {}, headers=headers)
    retry = csr_api.post(f"/orders/{order.number}/reauthorization-links", {}, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert OutboundEmail.objects.filter(order=order).count() == 1
    other = csr_api.post(
        f"/orders/{order.number}/reauthorization-links", {"confirm": True}, headers=headers
    )
    assert other.status_code == 409


def test_a_price_increase_through_the_api_sends_a_cart_with_the_new_lines(csr_api):
    order = make_order(total=5_000)
    lines = [{"description": "Screen and labour", "unit_price": 7_500, "quantity": 1}]

    answer = csr_api.post(f"/orders/{order.number}/price-increase-links", {"lines": lines})

    assert answer.status_code == 201, answer.content
    link = PaymentLink.objects.get(order=order)
    assert (link.purpose, link.proposed_total) == (LinkPurpose.PRICE_INCREASE, 7_500)
    order.refresh_from_db()
    assert order.total == 5_000  # changes only when the customer agrees


def test_a_price_increase_that_is_not_higher_is_refused_with_the_lines_at_fault(csr_api):
    order = make_order(total=5_000)
    lines = [{"description": "Cheaper", "unit_price": 4_000}]

    answer = csr_api.post(f"/orders/{order.number}/price-increase-links", {"lines": lines})

    assert answer.status_code == 409
    assert answer.json()["detail"][0]["field"] == "lines"
    assert not PaymentLink.objects.filter(order=order).exists()


def test_revoking_a_link_through_the_api_stops_it_and_a_second_revoke_is_refused(csr_api):
    order = make_order(total=8_000)
    link_id = csr_api.post(f"/orders/{order.number}/reauthorization-links", {}).json()["link"]["id"]

    answer = csr_api.post(f"/orders/{order.number}/links/{link_id}/revoke")

    assert (answer.status_code, answer.json()["status"]) == (200, LinkStatus.REVOKED)
    assert csr_api.post(f"/orders/{order.number}/links/{link_id}/revoke").status_code == 409


def test_a_link_of_another_order_is_not_found(csr_api):
    order, other = make_order(), make_order()
    link_id = csr_api.post(f"/orders/{other.number}/reauthorization-links", {}).json()["link"]["id"]

    assert csr_api.post(f"/orders/{order.number}/links/{link_id}/revoke").status_code == 404
    assert PaymentLink.objects.get(pk=link_id).status == LinkStatus.OPEN


def test_processing_a_card_through_the_api_authorizes_the_amount_owed(csr_api):
    order = make_order(total=6_000)

    answer = csr_api.post(f"/orders/{order.number}/card-payments", {"payment_token": card_token()})

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["status"], body["amount"], body["instrument"]) == (
        "authorized",
        6_000,
        "Visa •••• 4242",
    )
    assert Authorization.objects.get(order=order).source == AuthorizationSource.MANUAL


def test_a_declined_card_through_the_api_says_so_and_flags_the_order(csr_api):
    order = make_order(total=6_000)

    answer = csr_api.post(
        f"/orders/{order.number}/card-payments", {"payment_token": card_token(DECLINE_CARD)}
    )

    assert (answer.status_code, answer.json()["status"]) == (201, "declined")
    order.refresh_from_db()
    assert order.payment_state == "failed"


def test_an_order_lists_its_links_and_emails(csr_api):
    order = make_order(total=8_000)
    csr_api.post(f"/orders/{order.number}/reauthorization-links", {})

    links = csr_api.get(f"/orders/{order.number}/links").json()
    emails = csr_api.get(f"/orders/{order.number}/emails").json()

    assert [(link["purpose"], link["status"]) for link in links] == [("reauthorization", "open")]
    assert [email["template"] for email in emails] == [
        OutboundEmail.objects.get(order=order).template
    ]
    assert "token" not in str(links)


def test_a_read_only_key_may_list_but_not_send(csr):
    from orderdesk.api.keys import api_key_create

    reader = ApiClient(api_key_create(name="r", username=csr.username, scope="read")[1])
    order = make_order()

    assert reader.get(f"/orders/{order.number}/links").status_code == 200
    assert reader.post(f"/orders/{order.number}/reauthorization-links", {}).status_code == 403
    assert not PaymentLink.objects.exists()


def test_without_a_key_nothing_is_sent(anonymous_api):
    order = make_order()
    assert (
        anonymous_api.post(f"/orders/{order.number}/reauthorization-links", {}).status_code == 401
    )
    assert not PaymentLink.objects.exists()
