"""Cross-cutting response rules: a request id for the logs, and no caching of what a view made."""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import patch_cache_control

from orderdesk.common import logs as request_logging


class RequestIdMiddleware:
    """The request's id (common.logs, set when the request started) on the request and in the
    X-Request-ID answer header, for the proxy's and the browser's side of the story."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request_logging.request_id.get():  # a request that skipped request_started
            request_logging.request_id_begin(environ=request.META)
        request.request_id = request_logging.request_id.get()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
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
