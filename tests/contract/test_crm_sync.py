"""Every change the CRM should hear of reaches it: through the signed webhook (a receiver
that verifies and de-duplicates) and through simple-salesforce (the local fake)."""

from datetime import date, timedelta

import pytest

from orderdesk.common.clock import now
from orderdesk.crm.delivery import crm_message_send
from orderdesk.crm.models import CrmMessage, CrmMessageStatus
from orderdesk.crm.sync import crm_syncs_relay
from orderdesk.links.services import link_checkout, link_send_price_increase
from orderdesk.orders.models import CancelReason, Order
from orderdesk.orders.services import LineInput, order_delivery_date_set, order_status_set
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.workflows.cancellation import order_cancel
from orderdesk.workflows.shipping import order_ship
from tests.contract.fake_salesforce import salesforce_serving
from tests.contract.webhook_receiver import crm_webhook_receiving
from tests.factories import authorize, card_token, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    with crm_webhook_receiving(settings) as server:
        yield server


@pytest.fixture
def fake(tmp_path, settings, monkeypatch):
    with salesforce_serving(tmp_path, settings, monkeypatch) as server:
        yield server


def crm_drain() -> list[str]:
    """What the worker does: the relay, then every due message, oldest first, until done."""
    outcomes = []
    crm_syncs_relay()
    while True:
        due = CrmMessage.objects.filter(status=CrmMessageStatus.PENDING).exclude(
            next_attempt_at__gt=now()
        )
        sent = [crm_message_send(pk) for pk in due.order_by("pk").values_list("pk", flat=True)]
        outcomes += sent
        if not any(outcome != "skipped" for outcome in sent):
            return outcomes


def events(receiver, number: str) -> list[dict]:
    """The events the receiver kept for one order, in the order they came."""
    return [event for event in receiver.received.values() if event["data"].get("number") == number]


def test_a_new_order_reaches_the_crm_once_as_order_created(receiver):
    order = make_order(total=8_000)

    crm_drain()
    crm_drain()

    (event,) = events(receiver, order.number)
    assert event["type"] == "order.created"
    assert event["data"]["status"] == "open"
    assert event["data"]["total"] == 8_000
    assert event["data"]["version"] == 1
    assert receiver.attempts == 1


def change_status(order, csr, supervisor):
    order_status_set(order=order, to="in_progress", actor=csr)
    return ["status"]


def change_date(order, csr, supervisor):
    order_delivery_date_set(order=order, actor=csr, estimated=date(2031, 3, 4))
    return ["estimated_delivery_date"]


def change_payment(order, csr, supervisor):
    authorize(order)
    return ["payment_state", "payment_expires_at", "authorized_amount"]


def change_ship(order, csr, supervisor):
    order_status_set(order=order, to="ready_to_ship", actor=csr)
    authorize(order)
    crm_drain()  # the authorization on its own, so the shipment is the change below
    order_ship(order=order, actor=csr)
    return ["status", "payment_state"]


def change_cancel(order, csr, supervisor):
    order_cancel(order=order, actor=supervisor, reason=CancelReason.CUSTOMER_REQUEST)
    return ["status", "cancel_reason", "payment_state"]


@pytest.mark.parametrize(
    "change", [change_status, change_date, change_payment, change_ship, change_cancel]
)
def test_each_kind_of_change_reaches_the_crm_once(receiver, csr, supervisor, change):
    order = make_order(total=8_000)
    crm_drain()
    before = len(receiver.received)

    expected = change(order, csr, supervisor)
    crm_drain()
    crm_drain()

    last = events(receiver, order.number)[-1]
    assert last["type"] == "order.updated"
    assert set(expected) <= set(last["data"]["changed"])
    order.refresh_from_db()
    assert last["data"]["status"] == order.status
    assert last["data"]["payment_state"] == order.payment_state
    assert order.crm_settled_version == order.crm_version == last["data"]["version"]
    assert len(receiver.received) == before + (2 if change is change_ship else 1)
    assert receiver.attempts == len(receiver.received)  # nothing sent twice


def test_the_expiry_sweep_moving_an_order_to_expired_reaches_the_crm(receiver):
    order = make_order(total=8_000)
    authorization = authorize(order)
    crm_drain()

    authorizations_expire(authorization.expires_at + timedelta(seconds=1))
    crm_drain()

    last = events(receiver, order.number)[-1]
    assert last["data"]["payment_state"] == "expired"
    assert last["data"]["changed"] == ["payment_state"]


def test_several_changes_waiting_are_sent_as_one_latest_picture(receiver, csr):
    order = make_order(total=8_000)
    order_status_set(order=order, to="in_progress", actor=csr)
    order_delivery_date_set(order=order, actor=csr, estimated=date(2031, 3, 4))
    authorize(order)
    order_status_set(order=order, to="ready_to_ship", actor=csr)

    crm_drain()

    (event,) = events(receiver, order.number)
    order.refresh_from_db()
    assert event["data"]["version"] == order.crm_version == 5
    assert event["data"]["status"] == "ready_to_ship"
    assert event["data"]["estimated_delivery_date"] == "2031-03-04"
    assert event["data"]["payment_state"] == "authorized"
    assert CrmMessage.objects.filter(order=order).count() == 1


def test_a_change_made_while_a_picture_is_on_its_way_follows_it_in_order(receiver, csr):
    order = make_order(total=8_000)
    crm_syncs_relay()
    first = CrmMessage.objects.get(order=order)
    order_status_set(order=order, to="in_progress", actor=csr)  # after the relay, before sending
    crm_syncs_relay()
    assert CrmMessage.objects.filter(order=order).count() == 1  # joined the waiting one

    crm_message_send(first.pk)
    order_status_set(order=order, to="ready_to_ship", actor=csr)
    crm_drain()

    versions = [event["data"]["version"] for event in events(receiver, order.number)]
    assert versions == [2, 3]
    assert [event["data"]["status"] for event in events(receiver, order.number)] == [
        "in_progress",
        "ready_to_ship",
    ]


def test_a_newer_message_of_an_order_waits_while_an_older_one_is_retried(receiver, csr):
    order = make_order(total=8_000)
    crm_syncs_relay()
    receiver.answers = [503]
    first = CrmMessage.objects.get(order=order)
    assert crm_message_send(first.pk) == "retrying"
    from orderdesk.crm.services import crm_message_queue

    later = crm_message_queue(
        topic="order.note", payload={"number": order.number}, dedupe_key="later", order=order
    )

    assert crm_message_send(later.pk) == "skipped"
    assert receiver.received == {}
    CrmMessage.objects.filter(pk=first.pk).update(next_attempt_at=None)
    crm_drain()
    assert [event["type"] for event in receiver.received.values()] == [
        "order.created",
        "order.note",
    ]


def test_a_repeated_delivery_of_the_same_picture_has_the_same_event_id(receiver):
    order = make_order(total=8_000)
    crm_syncs_relay()
    message = CrmMessage.objects.get(order=order)
    receiver.answers = []
    crm_message_send(message.pk)
    message.refresh_from_db()
    # As if the answer had been lost: the same message claimed again sends the same id.
    CrmMessage.objects.filter(pk=message.pk).update(status=CrmMessageStatus.PENDING)
    crm_message_send(message.pk)

    assert receiver.attempts == 2
    assert list(receiver.received) == [f"order.sync:{order.pk}:v1"]


def test_a_failed_picture_is_retried_with_backoff_then_delivered(receiver):
    order = make_order(total=8_000)
    crm_syncs_relay()
    message = CrmMessage.objects.get(order=order)
    receiver.answers = [503]

    assert crm_message_send(message.pk) == "retrying"
    message.refresh_from_db()
    assert message.next_attempt_at > now()
    assert message.last_error == "webhook answered 503"
    order.refresh_from_db()
    assert order.crm_settled_version == 0  # still behind

    CrmMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    assert crm_message_send(message.pk) == "delivered"
    order.refresh_from_db()
    assert order.crm_settled_version == 1


# -- Salesforce ------------------------------------------------------------------------------


def test_the_salesforce_record_id_is_written_back_to_the_order_on_first_sync(fake, csr):
    order = make_order(total=8_000)
    crm_drain()
    order.refresh_from_db()
    record = fake.by_number(order.number)
    assert order.crm_id == record["Id"]
    assert (record["Status__c"], record["Total_Minor__c"]) == ("Open", 8_000)

    order_delivery_date_set(order=order, actor=csr, estimated=date(2031, 3, 4))
    authorize(order)
    crm_drain()

    record = fake.by_number(order.number)
    assert record["Estimated_Delivery_Date__c"] == "2031-03-04"
    assert record["Payment_State__c"] == "authorized"
    assert len(fake.records) == 1
    order.refresh_from_db()
    assert order.crm_id == record["Id"]


def replaced_pair(csr):
    old = make_order(total=10_000, status="in_progress")
    sent = link_send_price_increase(
        order=old, actor=csr, lines=[LineInput(description="Logic board", unit_price=14_500)]
    )
    link_checkout(link=sent.link, payment_token=card_token(), method="card")
    return Order.objects.get(pk=old.pk), Order.objects.get(supersedes=old)


def test_a_replacement_reaches_salesforce_linked_both_ways(fake, csr):
    old, new = replaced_pair(csr)

    crm_drain()

    old_record, new_record = fake.by_number(old.number), fake.by_number(new.number)
    assert old_record["Replaced_By__c"] == new_record["Id"]
    assert new_record["Supersedes__c"] == old_record["Id"]
    assert old_record["Status__c"] == "Replaced"
    assert new_record["Status__c"] == "In progress"
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.crm_id, new.crm_id) == (old_record["Id"], new_record["Id"])


def test_a_receiver_meets_the_new_order_before_the_message_that_links_it(receiver, csr):
    old, new = replaced_pair(csr)

    crm_drain()

    kinds = [(event["type"], event["data"].get("number")) for event in receiver.received.values()]
    assert kinds.index(("order.created", new.number)) < kinds.index(("order.replaced", None))
    (replaced,) = [
        event for event in receiver.received.values() if event["type"] == "order.replaced"
    ]
    assert (replaced["data"]["old_number"], replaced["data"]["new_number"]) == (
        old.number,
        new.number,
    )
    new_picture = events(receiver, new.number)[-1]["data"]
    assert new_picture["supersedes"] == old.number
    assert events(receiver, old.number)[-1]["data"]["superseded_by"] == new.number
