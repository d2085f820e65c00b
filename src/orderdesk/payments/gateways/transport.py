"""What the HTTP adapters share: settings read at call time, and telling a lost request
from a lost response.

A request that never left (connection refused, no route, connect timeout) did nothing at
the gateway: `GatewayUnavailable`. Anything that failed after the request was sent (read
timeout, connection reset mid-response) may have been acted on: `GatewayTimeout`, and the
outcome is settled later by `fetch`.
"""

from __future__ import annotations

import os
from decimal import Decimal

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from orderdesk.common.money import currency_exponent
from orderdesk.payments.gateways.base import GatewayError, GatewayTimeout, GatewayUnavailable


def setting(name: str, default=None):
    """A gateway setting, read when the call is made: Django settings first, then the
    environment variable of the same name (credentials need no line in settings.py)."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    return default if value is None else value


def timeout_seconds() -> float:
    return float(setting("ORDERDESK_GATEWAY_TIMEOUT_SECONDS", 30))


def network_retries() -> int:
    """Retries of a call with the same idempotency key after a lost request or response."""
    return int(setting("ORDERDESK_GATEWAY_NETWORK_RETRIES", 2))


def budget_seconds() -> float:
    """The longest one gateway operation may take: every attempt waiting its full timeout.

    A request that waits on a gateway must be allowed longer than this by the web server,
    or the server kills it mid-call and leaves the step's answer unrecorded.
    """
    return timeout_seconds() * (1 + network_retries())


def _causes(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        for arg in getattr(error, "args", ()):
            if isinstance(arg, BaseException):
                yield from _causes(arg)
        reason = getattr(error, "reason", None)
        if isinstance(reason, BaseException):
            yield from _causes(reason)
        error = error.__cause__ or error.__context__


def request_never_sent(error: BaseException) -> bool:
    """True when the failure happened before the gateway could have received the request."""
    return any(
        isinstance(cause, (requests.exceptions.ConnectTimeout, NewConnectionError))
        for cause in _causes(error)
    )


def transport_error(error: BaseException, gateway: str) -> GatewayError:
    if request_never_sent(error):
        return GatewayUnavailable(f"{gateway} could not be reached; nothing was sent")
    return GatewayTimeout(f"{gateway} did not answer in time; the outcome is unknown")


def major_units(amount: int, currency: str, *, exponent: int | None = None) -> str:
    """Minor units to the decimal string gateways such as PayPal expect: 12345 USD -> '123.45'."""
    exponent = currency_exponent(currency) if exponent is None else exponent
    if amount < 0:
        raise GatewayError("amounts sent to a gateway are never negative")
    whole, fraction = divmod(amount, 10**exponent)
    return f"{whole}.{fraction:0{exponent}d}" if exponent else str(whole)


def minor_units(value: str, currency: str) -> int:
    """A gateway's decimal string back to minor units, exactly (Decimal from text, no float)."""
    scaled = Decimal(value).scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise GatewayError(f"{value} {currency} has more decimals than the currency allows")
    return int(scaled)
