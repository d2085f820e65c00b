"""The business rules of payment links, through the real services and the sandbox gateway."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderdesk.common.clock import now
from orderdesk.common.errors import BusinessRuleError
from orderdesk.crm.models import CrmMessage
from orderdesk.links import services
from orderdesk.links.models import LinkPurpose, LinkStatus, PaymentLink
from orderdesk.links.selectors import link_declined_for_order
from orderdesk.links.services import (
    ConfirmationRequired,
    LinkUnavailable,
    Outcome,
    link_checkout,
    link_send_price_increase,
    link_send_reauthorization,
    links_expire,
    price_increase_decline,
)
from orderdesk.notifications.models import OutboundEmail
from orderdesk.operations.maintenance import JOBS
from orderdesk.orders.models import CancelReason, EventKind, Order, OrderStatus, PaymentState
from orderdesk.orders.services import (
    LineInput,
    order_assign,
    order_note_add,
)
from orderdesk.payments.gateways.sandbox import inject_faults
from orderdesk.payments.models import (
    LIVE,
    Authorization,
    AuthorizationSource,
    AuthorizationStatus,
)
from orderdesk.payments.services import authorization_reconcile, void_steps_deliver
from orderdesk.payments.state import payment_state_compute
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.sandbox import server
from tests.factories import (
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
    PROCESSOR_ERROR_CARD,
    authorize,
    card_token,
    make_account,
    make_order,
)

pytestmark = pytest.mark.django_db


def pay(sent, number="4242424242424242"):
    return link_checkout(link=sent.link, payment_token=card_token(number), method="card")


def assert_state_true(*orders):
    for order in orders:
        order.refresh_from_db()
        assert payment_state_compute(order).state == order.payment_state


def expired_order(**kwargs):
    order = make_order(**kwargs)
    authorize(order)
    with time_machine.travel(now() + timedelta(days=30)):
        authorizations_expire()
    return order


# --- re-trigger the cart -------------------------------------------------------------


def test_retrigger_sends_link_for_outstanding_amount_to_ecommerce_email(csr):
    order = make_order(total=12_500, account=make_account(ecommerce_email="ann@shop.test"))
    sent = link_send_reauthorization(order=order, actor=csr)
    link = sent.link
    assert (link.purpose, link.amount, link.status) == (LinkPurpose.REAUTHORIZATION, 12_500, "open")
    assert link.sent_to == "ann@shop.test"
    assert link.expires_at == link.created_at + timedelta(days=14)
    email = OutboundEmail.objects.get(order=order)
    assert email.to == "ann@shop.test"
    assert sent.url in email.body_text and sent.url in email.body_html
    assert "Approve Order Payment" in email.body_html
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AWAITING_CUSTOMER
    assert order.events.filter(kind=EventKind.LINK_SENT).count() == 1


def test_retrigger_email_shows_order_summary_and_estimated_delivery_date(csr):
    order = make_order(total=9_900, estimated_delivery_date=date(2031, 3, 14))
    link_send_reauthorization(order=order, actor=csr)
    email = OutboundEmail.objects.get(order=order)
    assert order.number in email.body_text and "Screen replacement" in email.body_text
    assert "USD 99.00" in email.body_text and "March 14, 2031" in email.body_text
    assert "Fixwell Repairs" in email.subject


def test_a_new_link_revokes_the_open_one(csr):
    order = make_order()
    first = link_send_reauthorization(order=order, actor=csr)
    second = link_send_reauthorization(order=order, actor=csr, confirm=True)
    first.link.refresh_from_db()
    assert first.link.status == LinkStatus.REVOKED
    assert second.link.status == LinkStatus.OPEN
    with pytest.raises(LinkUnavailable):
        pay(first)


def test_retrigger_twice_within_minutes_asks_for_confirmation_instead_of_sending(csr):
    order = make_order()
    link_send_reauthorization(order=order, actor=csr)
    with pytest.raises(ConfirmationRequired, match="Send another e-mail anyway"):
        link_send_reauthorization(order=order, actor=csr)
    assert OutboundEmail.objects.filter(order=order).count() == 1
    link_send_reauthorization(order=order, actor=csr, confirm=True)
    assert OutboundEmail.objects.filter(order=order).count() == 2


def test_retrigger_confirmation_says_the_earlier_link_is_revoked_only_while_it_is_open(csr):
    order = make_order()
    first = link_send_reauthorization(order=order, actor=csr)
    with pytest.raises(ConfirmationRequired) as open_question:
        link_send_reauthorization(order=order, actor=csr)
    assert "just now" in open_question.value.reason
    assert "Sending again revokes the link in that e-mail." in open_question.value.reason
    services.link_revoke(link=first.link, actor=csr)
    with (
        time_machine.travel(now() + timedelta(minutes=2)),
        pytest.raises(ConfirmationRequired) as revoked_question,
    ):
        link_send_reauthorization(order=order, actor=csr)
    assert "2 minutes ago" in revoked_question.value.reason
    assert "That link no longer works (revoked)." in revoked_question.value.reason
    assert "revokes the link" not in revoked_question.value.reason
    assert OutboundEmail.objects.filter(order=order).count() == 1


def test_retrigger_after_the_confirmation_window_needs_no_confirmation(csr):
    order = make_order()
    link_send_reauthorization(order=order, actor=csr)
    with time_machine.travel(now() + timedelta(minutes=11)):
        link_send_reauthorization(order=order, actor=csr)
    assert OutboundEmail.objects.filter(order=order).count() == 2


@pytest.mark.parametrize(
    ("order_kwargs", "reason"),
    [
        ({"payment_method": "terms"}, "Only card and PayPal"),
        ({"total": 0}, "no price yet"),
    ],
)
def test_retrigger_refused_when_it_makes_no_sense(csr, order_kwargs, reason):
    order = make_order(**order_kwargs)
    with pytest.raises(BusinessRuleError, match=reason):
        link_send_reauthorization(order=order, actor=csr)
    assert not PaymentLink.objects.filter(order=order).exists()
    assert not OutboundEmail.objects.exists()


def test_retrigger_refused_for_a_cancelled_order(supervisor):
    from orderdesk.workflows.cancellation import order_cancel

    order = make_order()
    order_cancel(order=order, actor=supervisor)
    with pytest.raises(BusinessRuleError, match="cancelled"):
        link_send_reauthorization(order=order, actor=supervisor)


def test_sending_links_needs_the_permission(db):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="x-y-z-secret")
    order = make_order()
    with pytest.raises(PermissionDenied):
        link_send_reauthorization(order=order, actor=nobody)
    with pytest.raises(PermissionDenied):
        link_send_price_increase(order=order, actor=nobody, lines=[LineInput("x", 99_999)])


def test_reauthorization_after_expiry_authorizes_same_amount_for_the_policy_window(csr):
    order = expired_order(total=20_000)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.EXPIRED
    sent = link_send_reauthorization(order=order, actor=csr)
    result = pay(sent)
    assert result.outcome == Outcome.APPROVED
    new = Authorization.objects.get(order=order, status=AuthorizationStatus.AUTHORIZED)
    assert new.amount == 20_000 and new.source == AuthorizationSource.CUSTOMER_LINK
    assert new.expires_at == new.authorized_at + timedelta(days=29)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.COMPLETED and sent.link.result_order == order
    assert order.events.filter(kind=EventKind.APPROVED).count() == 1
    assert_state_true(order)


def test_still_valid_authorization_is_voided_only_after_the_new_one_succeeded(csr):
    order = make_order()
    earlier = authorize(order)
    sent = link_send_reauthorization(order=order, actor=csr)
    assert pay(sent, DECLINE_CARD).outcome == Outcome.ATTEMPT_FAILED
    earlier.refresh_from_db()
    assert earlier.status == AuthorizationStatus.AUTHORIZED  # kept while the new one failed
    assert pay(sent).outcome == Outcome.APPROVED
    void_steps_deliver()  # the worker releases the replaced hold
    earlier.refresh_from_db()
    assert earlier.status == AuthorizationStatus.VOIDED
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    assert_state_true(order)


def test_paypal_approval_authorizes_with_the_payer_account(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    payment_token, approve_url = services.link_paypal_start(
        link=sent.link, return_url="/pay/x/paypal/return"
    )
    assert approve_url.startswith("/sandbox/paypal/")
    server.paypal_order_decide(
        reference=payment_token.removeprefix("paypal:"), approve=True, payer_email="payer@pp.test"
    )
    result = link_checkout(link=sent.link, payment_token=payment_token, method="paypal")
    assert result.outcome == Outcome.APPROVED
    authorization = Authorization.objects.get(order=order, status=AuthorizationStatus.AUTHORIZED)
    assert (authorization.method, authorization.payer_email) == ("paypal", "payer@pp.test")


# --- failures ----------------------------------------------------------------------------


def test_declined_card_leaves_the_order_unchanged_and_the_customer_may_retry(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    before = Order.objects.values("status", "total", "number").get(pk=order.pk)
    result = pay(sent, INSUFFICIENT_FUNDS_CARD)
    assert (result.outcome, result.attempts_left) == (Outcome.ATTEMPT_FAILED, 2)
    assert "insufficient funds" in result.message
    assert Order.objects.values("status", "total", "number").get(pk=order.pk) == before
    sent.link.refresh_from_db()
    assert (sent.link.status, sent.link.failed_attempts) == (LinkStatus.OPEN, 1)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AWAITING_CUSTOMER


def test_third_failure_locks_the_link_and_the_order_needs_manual_processing(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    outcomes = [pay(sent, card).outcome for card in (DECLINE_CARD, PROCESSOR_ERROR_CARD)]
    outcomes.append(pay(sent, DECLINE_CARD).outcome)
    assert outcomes == [Outcome.ATTEMPT_FAILED, Outcome.ATTEMPT_FAILED, Outcome.LOCKED]
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.FAILED
    order.refresh_from_db()
    assert order.payment_state == PaymentState.FAILED
    assert order.events.filter(kind=EventKind.LINK_LOCKED).count() == 1
    with pytest.raises(LinkUnavailable):
        pay(sent)  # a locked link takes no more attempts
    assert_state_true(order)


def test_a_completed_link_is_single_use(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    pay(sent)
    with pytest.raises(LinkUnavailable):
        pay(sent)
    assert Authorization.objects.filter(order=order, source="customer_link").count() == 1


def test_an_expired_link_takes_no_payment(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    with time_machine.travel(now() + timedelta(days=14, seconds=1)), pytest.raises(LinkUnavailable):
        pay(sent)
    assert not Authorization.objects.filter(order=order, source="customer_link").exists()


def test_a_request_that_died_after_the_gateway_authorized_is_finished_by_reconciliation(csr):
    from orderdesk.payments.services import authorization_attempt, authorizations_reconcile_unknown

    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    start = now()
    # The gateway authorized; the process waiting for the answer died before recording it.
    authorization_attempt(
        order=order,
        payment_token=card_token(),
        method="card",
        source=AuthorizationSource.CUSTOMER_LINK,
        amount=sent.link.amount,
    )
    with time_machine.travel(start + timedelta(minutes=10)):
        authorizations_reconcile_unknown()
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.COMPLETED
    with pytest.raises(LinkUnavailable):
        pay(sent)  # used: never a second charge
    assert Authorization.objects.filter(order=order, source="customer_link").count() == 1
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    assert_state_true(order)


def test_a_customer_paying_a_link_for_an_order_secured_since_is_released_not_charged(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    secured = authorize(order, source=AuthorizationSource.CUSTOMER_LINK)  # made after the link
    result = pay(sent)
    assert result.outcome == Outcome.RELEASED
    assert "not charged" in result.message and "secured already" in result.message
    void_steps_deliver()  # the worker releases the new hold
    live = Authorization.objects.filter(order=order, status__in=LIVE)
    assert list(live) == [secured]
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.REVOKED
    assert_state_true(order)


def test_an_approval_leaves_the_timeline_and_the_last_action_in_order(csr):
    order = expired_order(total=12_500)
    sent = link_send_reauthorization(order=order, actor=csr)
    assert pay(sent).outcome == Outcome.APPROVED
    kinds = list(order.events.order_by("-id").values_list("kind", flat=True)[:3])
    assert kinds == [
        EventKind.APPROVED,
        EventKind.AUTHORIZATION_MADE,
        EventKind.AUTHORIZATION_REQUESTED,
    ]
    order.refresh_from_db()
    approved = order.events.get(kind=EventKind.APPROVED)
    assert approved.message == "Customer approved payment of USD 125.00 with Visa •••• 4242"
    assert (order.last_action, order.last_action_at) == (approved.message, approved.created_at)
    assert_state_true(order)


def test_a_gateway_timeout_leaves_the_payment_unknown_and_reconciliation_finishes_it(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    with inject_faults("timeout"):
        assert pay(sent).outcome == Outcome.PENDING
    attempt = Authorization.objects.get(order=order, source="customer_link")
    assert attempt.status == AuthorizationStatus.UNKNOWN
    sent.link.refresh_from_db()
    assert (sent.link.status, sent.link.processing_since) == (LinkStatus.OPEN, None)
    # The sandbox authorized before the response was lost: reconciliation records it and
    # finishes the approval as the customer's request would have.
    authorization_reconcile(attempt)
    sent.link.refresh_from_db()
    assert (sent.link.status, sent.link.result_order) == (LinkStatus.COMPLETED, order)
    with pytest.raises(LinkUnavailable):
        pay(sent)
    assert Authorization.objects.filter(order=order, source="customer_link").count() == 1
    assert order.events.filter(kind=EventKind.APPROVED).count() == 1
    assert_state_true(order)


def test_an_approval_reads_and_writes_in_fourteen_statements(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    with CaptureQueriesContext(connection) as captured:
        assert pay(sent).outcome == Outcome.APPROVED
    statements = [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))
    ]
    # Claim (1), the pending authorization with its timeline row (5), then in one
    # transaction: the answer with its timeline row (3), the link locked and the order's
    # payment records read under the order's lock (2), the link's transition with its
    # timeline row (2) and the payment state (1). The sandbox's ledger has its own connection.
    assert len(statements) == 14, "\n".join(statements)


# --- price increase ------------------------------------------------------------------------


NEW_LINES = [
    LineInput(description="Logic board repair", unit_price=18_000),
    LineInput(description="Battery", unit_price=4_500, quantity=1),
]


def test_price_increase_changes_nothing_until_the_customer_agrees(csr):
    order = make_order(total=0)
    assert order.payment_state == PaymentState.AWAITING_PRICE
    sent = link_send_price_increase(order=order, actor=csr, lines=NEW_LINES)
    order.refresh_from_db()
    assert order.total == 0 and order.lines.count() == 1
    assert order.payment_state == PaymentState.AWAITING_CUSTOMER
    assert sent.link.amount == sent.link.proposed_total == 22_500
    email = OutboundEmail.objects.get(order=order)
    assert "Logic board repair" in email.body_text and "USD 225.00" in email.body_text
    assert "Decline" in email.body_html and "Approve Order Payment" in email.body_html


def test_price_increase_must_raise_the_total(csr):
    order = make_order(total=30_000)
    with pytest.raises(BusinessRuleError, match="must be higher"):
        link_send_price_increase(order=order, actor=csr, lines=NEW_LINES)
    with pytest.raises(BusinessRuleError, match="at least one line"):
        link_send_price_increase(order=order, actor=csr, lines=[LineInput(" ", 50_000)])


def test_approved_price_increase_replaces_a_zero_dollar_quote(csr):
    order = make_order(total=0, status="in_progress", estimated_delivery_date=date(2031, 1, 2))
    order_assign(order=order, actor=csr, assignee=csr)
    order_note_add(order=order, actor=csr, text="Customer prefers e-mail")
    sent = link_send_price_increase(order=order, actor=csr, lines=NEW_LINES)
    result = pay(sent)
    assert result.outcome == Outcome.APPROVED
    old, new = Order.objects.get(pk=order.pk), result.order
    new.refresh_from_db()
    assert (old.status, old.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.REPLACED)
    assert old.payment_state == PaymentState.VOID
    assert new.number == f"{old.number}-1" and new.supersedes == old
    assert (new.total, new.status, new.assigned_to) == (22_500, OrderStatus.IN_PROGRESS, csr)
    assert new.estimated_delivery_date == date(2031, 1, 2)
    assert [line.description for line in new.lines.all()] == ["Logic board repair", "Battery"]
    assert new.events.filter(kind=EventKind.NOTE, message__contains="prefers e-mail").exists()
    authorization = Authorization.objects.get(status=AuthorizationStatus.AUTHORIZED)
    assert authorization.order == new and authorization.amount == 22_500
    assert new.payment_state == PaymentState.AUTHORIZED
    message = CrmMessage.objects.get(topic="order.replaced")
    assert (message.payload["old_number"], message.payload["new_number"]) == (
        old.number,
        new.number,
    )
    assert message.dedupe_key == f"order.replaced:link-{sent.link.pk}"
    sent.link.refresh_from_db()
    assert sent.link.result_order == new
    assert_state_true(old, new)


def test_price_increase_voids_the_old_orders_authorization(csr):
    order = make_order(total=10_000)
    old_authorization = authorize(order)
    sent = link_send_price_increase(order=order, actor=csr, lines=NEW_LINES)
    new = pay(sent).order
    void_steps_deliver()  # the worker releases the replaced order's hold
    old_authorization.refresh_from_db()
    assert old_authorization.status == AuthorizationStatus.VOIDED
    assert old_authorization.order_id == order.pk
    assert Authorization.objects.get(status=AuthorizationStatus.AUTHORIZED).order == new


def test_replacement_of_a_replacement_is_numbered_from_the_root(csr):
    order = make_order(total=0, number="100234")
    first = pay(link_send_price_increase(order=order, actor=csr, lines=NEW_LINES)).order
    more = [*NEW_LINES, LineInput(description="Keyboard", unit_price=7_000)]
    second = pay(link_send_price_increase(order=first, actor=csr, lines=more)).order
    assert (first.number, second.number) == ("100234-1", "100234-2")
    assert second.supersedes == first


def test_declined_card_on_a_price_increase_changes_no_order(csr):
    order = make_order(total=0)
    sent = link_send_price_increase(order=order, actor=csr, lines=NEW_LINES)
    assert pay(sent, DECLINE_CARD).outcome == Outcome.ATTEMPT_FAILED
    assert Order.objects.count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN and order.total == 0


def test_customer_declines_the_price_increase_and_a_csr_is_flagged(csr):
    order = make_order(total=0)
    sent = link_send_price_increase(order=order, actor=csr, lines=NEW_LINES)
    result = price_increase_decline(link=sent.link)
    assert result.outcome == Outcome.DECLINED
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.DECLINED
    order.refresh_from_db()
    assert "declined the price increase" in order.last_action
    assert order.events.filter(kind=EventKind.DECLINED).count() == 1
    assert order.payment_state == PaymentState.AWAITING_PRICE  # still on the unpaid panel
    assert order.status == OrderStatus.OPEN and Order.objects.count() == 1
    with pytest.raises(LinkUnavailable):
        pay(sent)


def test_a_declined_price_increase_keeps_an_authorized_order_on_the_unpaid_panel(csr):
    """Rule: on decline the order is flagged for a CSR, even when an older hold still covers
    the old total; a new attempt (here a re-trigger) is what clears the flag."""
    order = make_order(total=10_000)
    authorize(order)
    sent = link_send_price_increase(order=order, actor=csr, lines=NEW_LINES)
    with time_machine.travel(now() + timedelta(minutes=1)):
        price_increase_decline(link=sent.link)
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AWAITING_PRICE
    assert order.authorized_amount == 10_000 and order.total == 10_000
    assert_state_true(order)
    assert link_declined_for_order(order) == sent.link  # the order screen says so
    with time_machine.travel(now() + timedelta(minutes=10)):
        retriggered = link_send_reauthorization(order=order, actor=csr, confirm=True)
        order.refresh_from_db()
        assert order.payment_state == PaymentState.AWAITING_CUSTOMER
        assert pay(retriggered).outcome == Outcome.APPROVED
    order.refresh_from_db()
    assert order.payment_state == PaymentState.AUTHORIZED
    assert_state_true(order)


def test_revoke_closes_the_link(csr):
    order = make_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    services.link_revoke(link=sent.link, actor=csr)
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.REVOKED
    with pytest.raises(BusinessRuleError):
        services.link_revoke(link=sent.link, actor=csr)
    assert_state_true(order)


# --- upkeep ----------------------------------------------------------------------------------


def test_links_expire_closes_links_past_expiry_and_refreshes_the_order(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    other = link_send_reauthorization(order=make_order(), actor=csr)
    with time_machine.travel(now() + timedelta(days=14)):
        assert links_expire() == 2
        assert links_expire() == 0
    sent.link.refresh_from_db()
    assert sent.link.status == LinkStatus.EXPIRED and other.link.order.events.filter(
        kind=EventKind.LINK_EXPIRED
    )
    order.refresh_from_db()
    assert order.payment_state == PaymentState.EXPIRED
    assert_state_true(order, other.link.order)


def test_links_expire_runs_with_the_worker_schedule():
    assert "orderdesk.links.services.links_expire" in JOBS


# --- a gateway outage is not the customer's failed attempt --------------------------------


def test_a_gateway_outage_is_not_the_customers_failed_attempt(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    with inject_faults("server_error", "server_error", "server_error"):
        results = [pay(sent) for _ in range(3)]
    assert {result.outcome for result in results} == {Outcome.GATEWAY_UNAVAILABLE}
    assert results[0].message == (
        "We could not reach the payment service, please try again in a few minutes."
    )
    link = PaymentLink.objects.get(pk=sent.link.pk)
    order.refresh_from_db()
    assert (link.status, link.failed_attempts) == (LinkStatus.OPEN, 0)
    assert order.payment_state == PaymentState.AWAITING_CUSTOMER
    assert order.events.filter(kind=EventKind.AUTHORIZATION_FAILED).count() == 3  # staff see it
    assert_state_true(order)
    assert pay(sent).outcome == Outcome.APPROVED


def test_a_decline_still_counts_as_the_customers_failed_attempt(csr):
    order = expired_order()
    sent = link_send_reauthorization(order=order, actor=csr)
    assert pay(sent, number=DECLINE_CARD).outcome == Outcome.ATTEMPT_FAILED
    assert PaymentLink.objects.get(pk=sent.link.pk).failed_attempts == 1
