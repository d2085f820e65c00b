"""Cross-cutting response rules: a request id for the logs, and no caching of what a view made."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.utils.cache import patch_cache_control

from orderdesk.common import logs as request_logging

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Every request gets an id (the proxy's X-Request-ID when it is well formed), set for the
    log lines the request causes and returned in the X-Request-ID header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if REQUEST_ID_PATTERN.match(offered) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_logging.request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_logging.request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class NoStoreMiddleware:
    """Staff pages, API answers and exports hold customer data: no browser or proxy keeps them.

    Every response a view makes gets `Cache-Control: no-store, private` unless the view chose
    its own caching; static files (served before this by whitenoise) keep theirs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        static_prefix = "/" + settings.STATIC_URL.lstrip("/")
        if request.path.startswith(static_prefix):
            return response
        if "no-store" not in response.get("Cache-Control", ""):
            patch_cache_control(response, no_store=True, private=True)
        return response
