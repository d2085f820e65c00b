"""The Salesforce adapter, through simple-salesforce, against a local fake Salesforce."""

import pytest

from orderdesk.crm.delivery import crm_message_send
from orderdesk.crm.models import CrmMessage, CrmMessageStatus
from orderdesk.orders.models import EventKind
from tests.contract.fake_salesforce import salesforce_serving

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(tmp_path, settings, monkeypatch):
    with salesforce_serving(tmp_path, settings, monkeypatch) as server:
        yield server


def test_a_replacement_creates_both_records_linked_both_ways(fake, replaced_message):
    payload = replaced_message.payload
    assert crm_message_send(replaced_message.pk) == "delivered"
    old = fake.by_number(payload["old_number"])
    new = fake.by_number(payload["new_number"])
    assert old["Status__c"] == "Replaced"
    assert old["Replaced_By__c"] == new["Id"]
    assert new["Supersedes__c"] == old["Id"]
    assert (new["Total_Minor__c"], new["Currency__c"]) == (14_500, "USD")
    assert fake.logins == 1
    replaced_message.refresh_from_db()
    assert replaced_message.remote_id == new["Id"]
    synced = replaced_message.order.events.get(kind=EventKind.CRM_SYNCED)
    assert "salesforce" in synced.message


def test_the_calls_are_upserts_by_order_number_then_the_link(fake, replaced_message):
    crm_message_send(replaced_message.pk)
    payload = replaced_message.payload
    assert [(method, resource) for method, resource, _ in fake.requests] == [
        ("PATCH", f"sobjects/Order__c/Order_Number__c/{payload['old_number']}"),
        ("PATCH", f"sobjects/Order__c/Order_Number__c/{payload['new_number']}"),
        ("PATCH", f"sobjects/Order__c/{fake.by_number(payload['old_number'])['Id']}"),
    ]


def test_a_retried_message_updates_the_same_records(fake, replaced_message):
    crm_message_send(replaced_message.pk)
    CrmMessage.objects.filter(pk=replaced_message.pk).update(status=CrmMessageStatus.PENDING)
    crm_message_send(replaced_message.pk)
    assert len(fake.records) == 2


def test_an_expired_session_logs_in_again(fake, replaced_message):
    crm_message_send(replaced_message.pk)
    fake.expire_sessions()
    CrmMessage.objects.filter(pk=replaced_message.pk).update(status=CrmMessageStatus.PENDING)
    assert crm_message_send(replaced_message.pk) == "delivered"
    assert fake.logins == 2


def test_an_outage_is_retried_later(fake, replaced_message):
    fake.fail_next = [503]
    assert crm_message_send(replaced_message.pk) == "retrying"
    CrmMessage.objects.filter(pk=replaced_message.pk).update(next_attempt_at=None)
    assert crm_message_send(replaced_message.pk) == "delivered"


def test_wrong_credentials_are_retried_with_the_reason(fake, replaced_message, settings):
    settings.ORDERDESK_SALESFORCE_PASSWORD = "wrong"
    assert crm_message_send(replaced_message.pk) == "retrying"
    replaced_message.refresh_from_db()
    assert "INVALID_LOGIN" in replaced_message.last_error


def test_an_access_token_with_an_instance_url_needs_no_login(fake, replaced_message, settings):
    settings.ORDERDESK_SALESFORCE_ACCESS_TOKEN = fake.issue_session()
    settings.ORDERDESK_SALESFORCE_INSTANCE_URL = fake.url
    assert crm_message_send(replaced_message.pk) == "delivered"
    assert fake.logins == 0
    assert len(fake.records) == 2
