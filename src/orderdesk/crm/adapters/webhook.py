"""A generic signed webhook (Standard Webhooks) for any CRM or integration platform."""

from __future__ import annotations

import json
import time

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from orderdesk.crm.adapters.base import CrmDeliveryError, Delivered
from orderdesk.crm.models import CrmMessage
from orderdesk.crm.signing import signature

# Retrying cannot fix these: the receiver says the request itself is wrong or unwanted.
PERMANENT_STATUSES = {400, 401, 403, 404, 405, 410, 413, 422}


def webhook_body(message: CrmMessage) -> bytes:
    document = {
        "type": message.topic,
        "timestamp": message.created_at.isoformat(),
        "data": message.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


class WebhookAdapter:
    name = "webhook"

    def deliver(self, message: CrmMessage) -> Delivered:
        url = settings.ORDERDESK_CRM_WEBHOOK_URL
        secret = settings.ORDERDESK_CRM_WEBHOOK_SECRET
        if not url or not secret:
            raise CrmDeliveryError(
                "set ORDERDESK_CRM_WEBHOOK_URL and ORDERDESK_CRM_WEBHOOK_SECRET", retryable=False
            )
        body = webhook_body(message)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "orderdesk-webhooks/1",
            # The event id is the webhook id: a receiver drops a message it has seen.
            "webhook-id": message.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(
                secret=secret, message_id=message.event_id, timestamp=timestamp, body=body
            ),
        }
        try:
            response = requests.post(
                url,
                data=body,
                headers=headers,
                timeout=settings.ORDERDESK_CRM_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise CrmDeliveryError(f"webhook not reached: {error.__class__.__name__}") from error
        if 200 <= response.status_code < 300:
            return Delivered(note=f"webhook answered {response.status_code}")
        raise CrmDeliveryError(
            f"webhook answered {response.status_code}",
            retryable=response.status_code not in PERMANENT_STATUSES,
        )
