"""`Idempotency-Key` for the API's write operations other than order creation.

The first request with a key is performed and its response remembered; a retry with the
same key and body gets that response back; the same key with another body, or while the
first is still running, is refused (409). A request the service refused is forgotten, so
that it can be retried once the reason is gone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import JsonResponse

from orderdesk.api.models import IdempotencyRecord
from orderdesk.api.services import IdempotencyConflict
from orderdesk.common.clock import now


def _hash(operation: str, body) -> str:
    canonical = json.dumps([operation, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(user, operation: str, key: str, digest: str) -> IdempotencyRecord | None:
    """The earlier record of this key (None when this request is the first)."""
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                user=user, key=key, operation=operation, request_hash=digest, created_at=now()
            )
            return None
    except IntegrityError:
        return IdempotencyRecord.objects.get(user=user, key=key, operation=operation)


def idempotent(
    request, *, operation: str, key: str | None, body, perform: Callable[[], tuple[int, dict]]
) -> JsonResponse:
    if key is None:
        status, answer = perform()
        return JsonResponse(answer, status=status)
    user = request.auth
    digest = _hash(operation, body)
    earlier = _claim(user, operation, key, digest)
    if earlier is not None:
        if earlier.request_hash != digest:
            raise IdempotencyConflict("This key was used for another request.", status=409)
        if earlier.completed_at is None:
            raise IdempotencyConflict("A request with this key is still running.", status=409)
        response = JsonResponse(earlier.response_body, status=earlier.response_status)
        response["Idempotent-Replayed"] = "true"
        return response
    try:
        status, answer = perform()
    except BaseException:
        IdempotencyRecord.objects.filter(user=user, key=key, operation=operation).delete()
        raise
    IdempotencyRecord.objects.filter(user=user, key=key, operation=operation).update(
        response_status=status, response_body=answer, completed_at=now()
    )
    return JsonResponse(answer, status=status)
