"""The supervisors' CRM screen: a failing message shows with its attempts, last error and
next try; the retry button sends it again, once, to a receiver that verifies it."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import dateformat, timezone

from orderdesk.common.clock import now
from orderdesk.crm.delivery import crm_message_send
from orderdesk.crm.models import CrmMessage, CrmMessageStatus
from orderdesk.crm.services import crm_message_retry
from orderdesk.crm.sync import crm_syncs_relay
from orderdesk.orders.services import order_status_set
from tests.contract.webhook_receiver import crm_webhook_receiving
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    with crm_webhook_receiving(settings) as server:
        settings.ORDERDESK_CRM_MAX_ATTEMPTS = 2
        yield server


def queued_picture():
    order = make_order(total=8_000)
    crm_syncs_relay()
    return order, CrmMessage.objects.get(order=order)


def screen(client, supervisor) -> str:
    client.force_login(supervisor)
    page = client.get(reverse("dashboard:crm"))
    assert page.status_code == 200
    return page.content.decode()


def test_a_message_that_keeps_failing_shows_with_its_error_and_next_try(
    client, supervisor, receiver
):
    order, message = queued_picture()
    receiver.answers = [503]

    assert crm_message_send(message.pk) == "retrying"

    html = screen(client, supervisor)
    message.refresh_from_db()
    assert order.number in html
    assert "webhook answered 503" in html
    assert "Pending" in html and "order.created" in html
    next_try = dateformat.format(timezone.localtime(message.next_attempt_at), "M j, Y H:i")
    assert next_try in html


def test_a_message_given_up_shows_and_the_retry_button_sends_it_once(client, supervisor, receiver):
    order, message = queued_picture()
    receiver.answers = [503, 503]
    assert crm_message_send(message.pk) == "retrying"
    with time_machine.travel(now() + timedelta(hours=1)):
        assert crm_message_send(message.pk) == "failed"
    assert "Failed (gave up)" in screen(client, supervisor)
    assert receiver.received == {}

    answer = client.post(reverse("dashboard:crm-retry", args=[message.pk]))
    assert (answer.status_code, answer["Location"]) == (302, "/dashboard/crm/")
    assert crm_message_send(message.pk) == "delivered"

    assert list(receiver.received) == [f"order.sync:{order.pk}:v1"]
    assert "No CRM message is failing." in screen(client, supervisor)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (CrmMessageStatus.DELIVERED, 1)


def test_retrying_a_given_up_picture_sends_the_newest_one_waiting_instead(
    supervisor, csr, receiver
):
    order, message = queued_picture()
    receiver.answers = [400]  # refused: not retried
    assert crm_message_send(message.pk) == "failed"
    order_status_set(order=order, to="in_progress", actor=csr)
    crm_syncs_relay()
    newer = CrmMessage.objects.get(order=order, status=CrmMessageStatus.PENDING)

    sent = crm_message_retry(message_id=message.pk, actor=supervisor)

    assert sent.pk == newer.pk
    message.refresh_from_db()
    assert message.status == CrmMessageStatus.SUPERSEDED
    assert crm_message_send(newer.pk) == "delivered"
    (event,) = receiver.received.values()
    assert event["data"]["status"] == "in_progress"


def test_a_delivered_message_cannot_be_retried(supervisor, settings):
    settings.ORDERDESK_CRM = "none"
    _, message = queued_picture()
    crm_message_send(message.pk)
    from orderdesk.common.errors import BusinessRuleError

    with pytest.raises(BusinessRuleError, match="nothing to retry"):
        crm_message_retry(message_id=message.pk, actor=supervisor)


def test_a_csr_cannot_retry_through_the_service(csr, receiver):
    from django.core.exceptions import PermissionDenied

    _, message = queued_picture()
    receiver.answers = [400]
    crm_message_send(message.pk)
    before = CrmMessage.objects.filter(pk=message.pk).values().get()

    with pytest.raises(PermissionDenied):
        crm_message_retry(message_id=message.pk, actor=csr)
    assert CrmMessage.objects.filter(pk=message.pk).values().get() == before


def test_a_supervisors_retry_is_written_on_the_orders_timeline(supervisor, receiver):
    from orderdesk.orders.models import OrderEvent

    order, message = queued_picture()
    receiver.answers = [400]
    crm_message_send(message.pk)
    last_action = type(order).objects.values_list("last_action", flat=True).get(pk=order.pk)

    crm_message_retry(message_id=message.pk, actor=supervisor)

    event = OrderEvent.objects.filter(order=order).latest("pk")
    assert event.actor == supervisor
    assert event.details == {"crm_message": message.pk, "action": "crm_retry"}
    assert "order.created sent again" in event.message
    assert type(order).objects.values_list("last_action", flat=True).get(pk=order.pk) == (
        last_action
    )
