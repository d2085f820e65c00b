"""PayPal's HTTP side: the client-credentials token, the retry of a lost request with its
`PayPal-Request-Id`, and the mapping of 5xx, 429 and network failures to gateway errors.
The operations (paypal.py) see only a status and a JSON body."""

from __future__ import annotations

import threading
import time

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from orderdesk.payments.gateways.base import GatewayError, GatewayTimeout, GatewayUnavailable
from orderdesk.payments.gateways.transport import (
    network_retries,
    setting,
    timeout_seconds,
    transport_error,
)

SANDBOX_API_BASE = "https://api-m.sandbox.paypal.com"
_TOKEN_MARGIN_SECONDS = 60


class _ServerError(Exception):
    """A 5xx answer, retried like a lost response (PayPal may have acted)."""

    def __init__(self, response: requests.Response):
        super().__init__(response.status_code)
        self.response = response


class PayPalTransport:
    """The REST client the PayPal gateway is built on: `_api` sends one authenticated call."""

    def __init__(self):
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def _config(self) -> tuple[str, str, str]:
        client_id = setting("ORDERDESK_PAYPAL_CLIENT_ID", "")
        secret = setting("ORDERDESK_PAYPAL_CLIENT_SECRET", "")
        if not client_id or not secret:
            raise GatewayError(
                "ORDERDESK_PAYPAL_CLIENT_ID and ORDERDESK_PAYPAL_CLIENT_SECRET are not set"
            )
        base = (setting("ORDERDESK_PAYPAL_API_BASE", "") or SANDBOX_API_BASE).rstrip("/")
        return base, client_id, secret

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _access_token(self, base: str, client_id: str, secret: str) -> str:
        """A client-credentials token, cached until shortly before PayPal says it expires."""
        with self._lock:
            cached = self._tokens.get((base, client_id))
            if cached and cached[1] > time.monotonic():
                return cached[0]
        status, body = self._send(
            "POST",
            f"{base}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
            headers={"Accept": "application/json"},
            retry=True,
        )
        if status != 200 or "access_token" not in body:
            raise GatewayError(f"PayPal refused the API credentials ({status})")
        deadline = time.monotonic() + int(body.get("expires_in", 0)) - _TOKEN_MARGIN_SECONDS
        with self._lock:
            self._tokens[(base, client_id)] = (body["access_token"], deadline)
        return body["access_token"]

    def _send(self, method, url, *, retry, **kwargs) -> tuple[int, dict]:
        """One HTTP exchange, retried (with the same request id) after a lost request or a 5xx."""
        retrying = Retrying(
            stop=stop_after_attempt(1 + (network_retries() if retry else 0)),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception_type((requests.RequestException, _ServerError)),
            reraise=True,
        )
        try:
            response = retrying(self._request, method, url, **kwargs)
        except requests.RequestException as error:
            raise transport_error(error, "PayPal") from error
        except _ServerError as error:
            response = error.response
        if response.status_code in (429, 503):
            raise GatewayUnavailable(f"PayPal answered {response.status_code}")
        if response.status_code >= 500:
            raise GatewayTimeout(f"PayPal answered {response.status_code}; the outcome is unknown")
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        return response.status_code, body if isinstance(body, dict) else {}

    def _request(self, method, url, **kwargs) -> requests.Response:
        response = self._session().request(method, url, timeout=timeout_seconds(), **kwargs)
        if response.status_code >= 500:
            raise _ServerError(response)
        return response

    def _api(self, method: str, path: str, *, json=None, request_id: str = "") -> tuple[int, dict]:
        base, client_id, secret = self._config()
        headers = {"Content-Type": "application/json", "Prefer": "return=representation"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        for renewed in (False, True):
            headers["Authorization"] = f"Bearer {self._access_token(base, client_id, secret)}"
            status, body = self._send(
                method,
                f"{base}{path}",
                json=json,
                headers=headers,
                retry=bool(request_id) or method == "GET",
            )
            if status != 401 or renewed:
                return status, body
            with self._lock:  # the token was revoked or expired early: get a new one once
                self._tokens.pop((base, client_id), None)
        raise AssertionError("unreachable")
