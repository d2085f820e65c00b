"""A webhook receiver that verifies Standard Webhooks signatures, written from the spec.

It checks the three headers, the timestamp tolerance (5 minutes) and the `v1` signature,
HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the base64 part of the `whsec_`
secret, and de-duplicates on `webhook-id` as a receiver should.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from contextlib import contextmanager

from tests.contract.servers import LocalServer, QuietHandler

TOLERANCE_SECONDS = 5 * 60


def verify(secret: str, headers, body: bytes) -> bool:
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature", "")
    if not (message_id and timestamp and timestamp.isdigit()):
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(
        hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class WebhookReceiver(LocalServer):
    def __init__(self, secret: str):
        super().__init__(ReceiverHandler)
        self.secret = secret
        self.received: dict[str, dict] = {}  # webhook-id -> event, each once
        self.attempts = 0
        self.rejected = 0
        self.answers: list[int] = []  # statuses to answer the next deliveries with
        self.lock = threading.Lock()


class ReceiverHandler(QuietHandler):
    def do_POST(self):
        fake: WebhookReceiver = self.server.fake
        body = self.body()
        with fake.lock:
            fake.attempts += 1
            if fake.answers:
                return self.reply(fake.answers.pop(0), b"{}")
            if not verify(fake.secret, self.headers, body):
                fake.rejected += 1
                return self.reply(401, b'{"error": "bad signature"}')
            fake.received.setdefault(self.headers["webhook-id"], json.loads(body))
        return self.reply(204)


@contextmanager
def crm_webhook_receiving(settings):
    """A receiver running, with orderdesk's CRM pointed at it through the signed webhook."""
    from orderdesk.crm.signing import secret_generate

    secret = secret_generate()
    with WebhookReceiver(secret) as server:
        settings.ORDERDESK_CRM = "webhook"
        settings.ORDERDESK_CRM_WEBHOOK_URL = f"{server.url}/hooks/orderdesk"
        settings.ORDERDESK_CRM_WEBHOOK_SECRET = secret
        yield server
