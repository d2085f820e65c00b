"""The webhook adapter against a receiver that verifies Standard Webhooks signatures."""

import json

import pytest

from orderdesk.crm.delivery import crm_message_send
from orderdesk.crm.models import CrmMessageStatus
from orderdesk.crm.signing import secret_generate, signature
from tests.contract.webhook_receiver import crm_webhook_receiving, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    with crm_webhook_receiving(settings) as server:
        yield server


def test_signature_matches_the_standard_webhooks_reference_example():
    assert (
        signature(
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp=1614265330,
            body=b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_the_receiver_gets_a_verified_event_with_the_dedupe_key_as_webhook_id(
    receiver, replaced_message
):
    assert crm_message_send(replaced_message.pk) == "delivered"
    assert receiver.rejected == 0
    event = receiver.received[replaced_message.dedupe_key]
    assert event["type"] == "order.replaced"
    assert event["data"] == replaced_message.payload
    replaced_message.refresh_from_db()
    assert replaced_message.status == CrmMessageStatus.DELIVERED


def test_a_server_error_is_retried_and_the_retry_is_accepted_once(receiver, replaced_message):
    receiver.answers = [503]
    assert crm_message_send(replaced_message.pk) == "retrying"
    from orderdesk.crm.models import CrmMessage

    CrmMessage.objects.filter(pk=replaced_message.pk).update(next_attempt_at=None)
    assert crm_message_send(replaced_message.pk) == "delivered"
    assert receiver.attempts == 2
    assert list(receiver.received) == [replaced_message.dedupe_key]


def test_a_wrong_secret_is_refused_by_the_receiver_and_not_retried(
    receiver, replaced_message, settings
):
    settings.ORDERDESK_CRM_WEBHOOK_SECRET = secret_generate()
    assert crm_message_send(replaced_message.pk) == "failed"
    assert receiver.rejected == 1
    replaced_message.refresh_from_db()
    assert replaced_message.last_error == "webhook answered 401"


def test_the_receiver_rejects_a_tampered_body():
    secret = secret_generate()
    body = json.dumps({"type": "order.replaced"}).encode()
    import time

    stamp = int(time.time())
    headers = {
        "webhook-id": "m1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature(secret=secret, message_id="m1", timestamp=stamp, body=body),
    }
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")
