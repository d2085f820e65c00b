"""Gateway webhooks: `POST /api/webhooks/<gateway>`. Thin: prove the event, record it.

A refused request (forged, stale, replayed outside the tolerance, an unconfigured gateway)
is logged and answered 400 with nothing changed; a genuine event already received is
answered 200 again, so the gateway stops resending it.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orderdesk.payments.gateways.events import (
    WebhookRefused,
    WebhookRetryLater,
    webhook_event_verify,
)
from orderdesk.payments.services import gateway_event_record

logger = logging.getLogger("orderdesk.webhooks")
MAX_BODY_BYTES = 256 * 1024


@csrf_exempt
@require_POST
def gateway_webhook(request, gateway: str):
    body = request.body
    try:
        if len(body) > MAX_BODY_BYTES:
            raise WebhookRefused("the body is too large")
        event = webhook_event_verify(gateway, request.headers, body)
    except WebhookRefused as refusal:
        logger.warning(
            "webhook refused: gateway=%s address=%s reason=%s",
            gateway[:20],
            request.META.get("REMOTE_ADDR", ""),
            refusal,
        )
        return JsonResponse(
            {"detail": [{"field": "signature", "reason": str(refusal)}]}, status=400
        )
    except WebhookRetryLater as delay:
        logger.warning("webhook deferred: gateway=%s reason=%s", gateway[:20], delay)
        return JsonResponse({"detail": [{"field": "gateway", "reason": str(delay)}]}, status=503)
    received = gateway_event_record(event)
    logger.info("webhook %s %s %s: %s", gateway, event.event_id, event.kind, received.outcome)
    return JsonResponse({"event": event.event_id, "outcome": received.outcome})
