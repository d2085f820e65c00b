"""PayPal's answers read as gateway results: amounts in PayPal's decimal strings, an
authorization's status and expiry, and the issue PayPal names when it refuses."""

from __future__ import annotations

from datetime import datetime

from orderdesk.common.money import currency_exponent
from orderdesk.payments.gateways.base import (
    GatewayError,
    GatewayResult,
    GatewayTimeout,
    ResultStatus,
)
from orderdesk.payments.gateways.transport import major_units, minor_units

# PayPal takes these currencies without decimals.
_NO_DECIMALS = {"HUF", "JPY", "TWD"}


def paypal_value(amount: int, currency: str) -> str:
    """Minor units to PayPal's decimal string, exactly: 12345 USD -> '123.45'."""
    if currency.upper() in _NO_DECIMALS:
        whole, fraction = divmod(amount, 10 ** currency_exponent(currency))
        if fraction:
            raise GatewayError(f"PayPal takes {currency} only in whole units")
        return str(whole)
    return major_units(amount, currency)


def paypal_amount(amount: int, currency: str) -> dict:
    return {"currency_code": currency.upper(), "value": paypal_value(amount, currency)}


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def paypal_issue(body: dict) -> tuple[str, str]:
    details = body.get("details") or [{}]
    issue = details[0].get("issue") or body.get("name") or "paypal_error"
    return issue.lower(), details[0].get("description") or body.get("message") or issue


def authorization_result(authorization: dict, order: dict | None = None) -> GatewayResult:
    amount = authorization.get("amount") or {}
    currency = amount.get("currency_code", "")
    status = authorization.get("status", "")
    payer = ((order or {}).get("payment_source") or {}).get("paypal") or {}
    fields = {
        "reference": authorization.get("id", ""),
        "amount": minor_units(amount["value"], currency) if amount.get("value") else 0,
        "currency": currency,
        "payer_email": payer.get("email_address")
        or ((order or {}).get("payer") or {}).get("email_address", ""),
        "raw": {"id": authorization.get("id"), "status": status},
    }
    if status == "CREATED":
        expires_at = _parse_time(authorization.get("expiration_time"))
        return GatewayResult(status=ResultStatus.AUTHORIZED, expires_at=expires_at, **fields)
    if status in ("CAPTURED", "PARTIALLY_CAPTURED"):
        return GatewayResult(status=ResultStatus.CAPTURED, **fields)
    if status == "VOIDED":
        return GatewayResult(status=ResultStatus.VOIDED, **fields)
    if status == "EXPIRED":  # past its validity (and honor period) at PayPal
        return GatewayResult(status=ResultStatus.EXPIRED, **fields)
    if status == "PENDING":
        raise GatewayTimeout("PayPal holds the authorization as pending; the outcome is not final")
    return GatewayResult(
        status=ResultStatus.DECLINED,
        decline_code=status.lower() or "declined",
        message=f"PayPal authorization {status.lower()}",
        **fields,
    )


def refused(body: dict, status: str = ResultStatus.DECLINED) -> GatewayResult:
    code, message = paypal_issue(body)
    return GatewayResult(status=status, decline_code=code, message=message)


def order_authorization(order: dict) -> dict | None:
    for unit in order.get("purchase_units") or []:
        authorizations = (unit.get("payments") or {}).get("authorizations") or []
        if authorizations:
            return authorizations[-1]
    return None
