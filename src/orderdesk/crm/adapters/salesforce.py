"""Salesforce through simple-salesforce (REST API).

Orders are records of a custom object (ORDERDESK_SALESFORCE_ORDER_OBJECT, default `Order__c`)
keyed by the external-ID field `Order_Number__c`, written with upserts (`PATCH
/sobjects/Order__c/Order_Number__c/<number>`), so a retried message updates the records it
created instead of duplicating them. For `order.replaced` the old and new orders are linked
both ways: the new one's lookup `Supersedes__c` and the old one's lookup `Replaced_By__c`.
A sync (`order.created`, `order.updated`) upserts the order's record with its picture.

Fields used: Name, Order_Number__c (external ID, unique), Status__c (text),
Total_Minor__c (number, 0 decimals: minor units), Currency__c (text 3), Account__c
(lookup to Account, set when the account has a CRM id), Supersedes__c and Replaced_By__c
(lookups to the same object), Payment_State__c (text), Payment_Expires_At__c (date/time),
Authorized_Minor__c (number, 0 decimals), Estimated_Delivery_Date__c (date).
"""

from __future__ import annotations

import threading

import requests
from django.conf import settings
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from orderdesk.crm.adapters.base import CrmDeliveryError, Delivered
from orderdesk.crm.models import SYNC_TOPICS, CrmMessage

EXTERNAL_ID = "Order_Number__c"
_sessions: dict[tuple, tuple[str, str]] = {}
_sessions_lock = threading.Lock()


class TimeoutSession(requests.Session):
    """simple-salesforce passes no timeout; a CRM that hangs must not hold a worker forever."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


def _config() -> dict:
    return {
        "instance_url": settings.ORDERDESK_SALESFORCE_INSTANCE_URL,
        "access_token": settings.ORDERDESK_SALESFORCE_ACCESS_TOKEN,
        "username": settings.ORDERDESK_SALESFORCE_USERNAME,
        "password": settings.ORDERDESK_SALESFORCE_PASSWORD,
        "security_token": settings.ORDERDESK_SALESFORCE_SECURITY_TOKEN,
        "domain": settings.ORDERDESK_SALESFORCE_DOMAIN or "login",
        "login_url": settings.ORDERDESK_SALESFORCE_LOGIN_URL,
        "version": settings.ORDERDESK_SALESFORCE_API_VERSION,
        "object": settings.ORDERDESK_SALESFORCE_ORDER_OBJECT,
    }


def client_connect(*, fresh: bool = False) -> Salesforce:
    """A client from an access token, or by username + password + security token (SOAP login).

    The session of a login is reused until Salesforce says it expired.
    """
    config = _config()
    session = TimeoutSession(settings.ORDERDESK_CRM_TIMEOUT_SECONDS)
    if config["access_token"] and config["instance_url"]:
        return Salesforce(
            session_id=config["access_token"],
            instance_url=config["instance_url"],
            version=config["version"],
            session=session,
        )
    if not (config["username"] and config["password"]):
        raise CrmDeliveryError(
            "set ORDERDESK_SALESFORCE_ACCESS_TOKEN and _INSTANCE_URL, or _USERNAME, _PASSWORD "
            "and _SECURITY_TOKEN",
            retryable=False,
        )
    key = (config["username"], config["domain"], config["login_url"], config["version"])
    with _sessions_lock:
        cached = None if fresh else _sessions.get(key)
    if cached is None:
        cached = SalesforceLogin(
            username=config["username"],
            password=config["password"],
            security_token=config["security_token"] or "",
            domain=config["domain"],
            sf_version=config["version"],
            session=session,
            # A login host other than https://<domain>.salesforce.com (scratch orgs).
            scratch_url=config["login_url"] or None,
        )
        with _sessions_lock:
            _sessions[key] = cached
    session_id, instance = cached
    return Salesforce(
        session_id=session_id, instance=instance, version=config["version"], session=session
    )


def sessions_forget() -> None:
    with _sessions_lock:
        _sessions.clear()


class SalesforceAdapter:
    name = "salesforce"

    def deliver(self, message: CrmMessage) -> Delivered:
        try:
            try:
                return self._deliver(client_connect(), message)
            except SalesforceExpiredSession:
                return self._deliver(client_connect(fresh=True), message)
        except SalesforceAuthenticationFailed as error:
            raise CrmDeliveryError(f"Salesforce login failed: {error.code}") from error
        except (SalesforceMalformedRequest, SalesforceResourceNotFound) as error:
            raise CrmDeliveryError(
                f"Salesforce refused the request: {_first_error(error)}", retryable=False
            ) from error
        except SalesforceError as error:
            raise CrmDeliveryError(f"Salesforce error {error.status}") from error
        except requests.RequestException as error:
            raise CrmDeliveryError(f"Salesforce not reached: {error.__class__.__name__}") from error

    def _deliver(self, client: Salesforce, message: CrmMessage) -> Delivered:
        records = getattr(client, _config()["object"])
        payload = message.payload
        if message.topic == "order.replaced":
            return self._replaced(records, payload)
        if message.topic in SYNC_TOPICS:
            return self._synced(records, payload)
        number = payload.get("number")
        if message.topic.startswith("order.") and number:
            fields = {"Status__c": payload["status"]} if payload.get("status") else {}
            remote_id = _upsert(records, number, fields)
            return Delivered(remote_id=remote_id, note=f"Salesforce record {remote_id} updated")
        return Delivered(note=f"topic {message.topic} is not sent to Salesforce")

    def _replaced(self, records, payload: dict) -> Delivered:
        old_number, new_number = payload["old_number"], payload["new_number"]
        currency = payload.get("currency", "")
        old_id = _upsert(
            records,
            old_number,
            {"Status__c": "Replaced", **_money(payload.get("old_total"), currency)},
        )
        new_fields = {"Supersedes__c": old_id, **_money(payload.get("new_total"), currency)}
        if payload.get("account_crm_id"):
            new_fields["Account__c"] = payload["account_crm_id"]
        new_id = _upsert(records, new_number, new_fields)
        records.update(old_id, {"Replaced_By__c": new_id})
        return Delivered(
            remote_id=new_id,
            note=f"Salesforce: {old_number} ({old_id}) replaced by {new_number} ({new_id})",
            record_ids=((old_number, old_id), (new_number, new_id)),
        )

    def _synced(self, records, payload: dict) -> Delivered:
        number = payload["number"]
        fields = {
            "Status__c": _status_text(payload),
            **_money(payload.get("total"), payload.get("currency", "")),
            "Payment_State__c": payload.get("payment_state", ""),
            "Payment_Expires_At__c": payload.get("payment_expires_at"),
            "Authorized_Minor__c": payload.get("authorized_amount", 0),
            "Estimated_Delivery_Date__c": payload.get("estimated_delivery_date"),
        }
        account_crm_id = (payload.get("account") or {}).get("crm_id")
        if account_crm_id:
            fields["Account__c"] = account_crm_id
        remote_id = _upsert(records, number, fields)
        return Delivered(
            remote_id=remote_id,
            note=f"Salesforce record {remote_id} of {number} updated (v{payload.get('version')})",
            record_ids=((number, remote_id),),
        )


def _status_text(payload: dict) -> str:
    """The work status as Salesforce shows it; a replaced order reads Replaced, as the
    `order.replaced` message writes it."""
    if payload.get("cancel_reason") == "replaced":
        return "Replaced"
    return str(payload.get("status", "")).replace("_", " ").capitalize()


def _money(amount, currency: str) -> dict:
    if amount is None:
        return {}
    return {"Total_Minor__c": int(amount), "Currency__c": currency}


def _upsert(records, number: str, fields: dict) -> str:
    """Create or update the order's record by its number; returns the record id."""
    response = records.upsert(
        f"{EXTERNAL_ID}/{number}", {"Name": number, **fields}, raw_response=True
    )
    if response.status_code != 204 and response.content:
        return response.json()["id"]
    # Before API version 46 an update answers 204 without a body: look the id up.
    found = records.get_by_custom_id(EXTERNAL_ID, number)
    return found["Id"]


def _first_error(error: SalesforceError) -> str:
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode', '')} {content[0].get('message', '')}".strip()
    return str(error.status)
