"""Demo-like data for the dashboard tests: one order or more in every group of the unpaid panel.

Built through the real services, with `as_of` for aged authorizations and the real sweep,
the way the storefront and the worker would have left them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from orderdesk.common.clock import as_of, now
from orderdesk.payments.sweep import authorizations_expire
from tests.factories import DECLINE_CARD, authorize, make_account, make_order


@dataclass
class Scenario:
    failed: object
    expired: object
    expiring: object
    expiring_before_delivery: object
    awaiting_customer: object
    unauthorized: object
    awaiting_price: object
    secured: object
    shipped_unpaid_looking: object

    @property
    def panel_numbers(self) -> dict[str, set[str]]:
        """The order numbers each group must show."""
        return {
            "failed": {self.failed.number},
            "expired": {self.expired.number},
            "expiring": {self.expiring.number, self.expiring_before_delivery.number},
            "awaiting_customer": {self.awaiting_customer.number},
            "not_authorized": {self.unauthorized.number, self.awaiting_price.number},
        }


def aged_authorization(order, *, days_ago: float, number: str | None = None):
    """Authorize as the storefront did `days_ago` days ago."""
    with as_of(now() - timedelta(days=days_ago)):
        return authorize(order, **({"number": number} if number else {}))


def scenario_build(*, csr, status: str = "ready_to_ship") -> Scenario:
    """One order per panel group (two where a group has two ways in), plus two that stay off it."""
    today = now().date()
    failed = make_order(status=status, account=make_account(name="Ada Failwell"))
    authorize(failed, DECLINE_CARD)
    expired = make_order(status=status, account=make_account(name="Eli Lapsed"))
    aged_authorization(expired, days_ago=31)
    expiring = make_order(status=status, account=make_account(name="Eve Soon"))
    aged_authorization(expiring, days_ago=27)
    before_delivery = make_order(
        status=status,
        account=make_account(name="Dana Later"),
        estimated_delivery_date=today + timedelta(days=45),
    )
    authorize(before_delivery)
    awaiting = make_order(status=status, account=make_account(name="Carl Waiting"))
    aged_authorization(awaiting, days_ago=31)
    unauthorized = make_order(status=status, account=make_account(name="Una Card"))
    awaiting_price = make_order(
        total=0, kind="repair", status=status, account=make_account(name="Zed Zero")
    )
    secured = make_order(status=status, account=make_account(name="Sam Secure"))
    authorize(secured)
    shipped = make_order(status="ready_to_ship", account=make_account(name="Otto Shipped"))
    authorize(shipped)
    authorizations_expire()
    _send_link(awaiting, csr)
    _ship(shipped, csr)
    return Scenario(
        failed=failed,
        expired=expired,
        expiring=expiring,
        expiring_before_delivery=before_delivery,
        awaiting_customer=awaiting,
        unauthorized=unauthorized,
        awaiting_price=awaiting_price,
        secured=secured,
        shipped_unpaid_looking=shipped,
    )


def _send_link(order, actor) -> None:
    from orderdesk.links.services import link_send_reauthorization

    link_send_reauthorization(order=order, actor=actor, confirm=True)


def _ship(order, actor) -> None:
    from orderdesk.workflows.shipping import order_ship

    order_ship(order=order, actor=actor)
