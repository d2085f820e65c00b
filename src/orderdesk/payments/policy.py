"""How long an authorization stays valid.

The expiry a gateway reports for an authorization wins; then a policy for the gateway,
method and card network; then the business default (29 days, PayPal's authorization
period). A policy may carry an honor period (PayPal's 3 days) during which a gateway that
can reauthorize does so without asking the customer again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings


@dataclass(frozen=True)
class ValidityPolicy:
    days: int
    honor_days: int = 0

    @property
    def validity(self) -> timedelta:
        return timedelta(days=self.days)

    @property
    def honor_period(self) -> timedelta:
        return timedelta(days=self.honor_days)


def parse_policies(text: str) -> dict[tuple[str, ...], ValidityPolicy]:
    """Parse "stripe:card=7,paypal:paypal=29+3,sandbox:card:amex=7"."""
    policies: dict[tuple[str, ...], ValidityPolicy] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        days, _, honor = value.partition("+")
        if not key or not days.isdigit() or (honor and not honor.isdigit()):
            raise ValueError(
                f"bad authorization policy {item!r}; expected gateway:method[:network]=days[+honor]"
            )
        policies[tuple(key.strip().lower().split(":"))] = ValidityPolicy(int(days), int(honor or 0))
    return policies


def policy_for(*, gateway: str, method: str, network: str = "") -> ValidityPolicy:
    policies = parse_policies(settings.ORDERDESK_AUTHORIZATION_POLICIES)
    for key in ((gateway, method, network.lower()), (gateway, method), (gateway,)):
        if key in policies:
            return policies[key]
    return ValidityPolicy(days=settings.ORDERDESK_AUTHORIZATION_DAYS)


def expiry_for(
    *,
    authorized_at: datetime,
    gateway: str,
    method: str,
    network: str = "",
    reported: datetime | None = None,
) -> datetime:
    if reported is not None:
        return reported
    return authorized_at + policy_for(gateway=gateway, method=method, network=network).validity
