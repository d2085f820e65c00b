"""Test data built through the real services, as users and the storefront would."""

from __future__ import annotations

import itertools

from orderdesk.accounts.services import account_create, staff_create
from orderdesk.orders.services import LineInput
from orderdesk.payments.models import AuthorizationSource
from orderdesk.payments.services import authorization_request
from orderdesk.sandbox import server
from orderdesk.workflows.intake import order_open

APPROVE_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"
PROCESSOR_ERROR_CARD = "4000000000000119"

_counter = itertools.count(1)


def card_token(number: str = APPROVE_CARD) -> str:
    return server.tokenize_card(number=number, exp_month=12, exp_year=2099, cvc="123")


def make_staff(role: str = "csr", username: str | None = None):
    return staff_create(
        username=username or f"{role}{next(_counter)}",
        role=role,
        password="correct-horse-battery",
        name=f"{role.title()} Person",
    )


def make_account(**overrides):
    n = next(_counter)
    fields = {
        "name": f"Customer {n}",
        "ecommerce_email": f"customer{n}@example.com",
        "phone": "555-0100",
    }
    fields.update(overrides)
    return account_create(**fields)


def make_order(
    *,
    total: int = 12_500,
    kind: str = "repair",
    payment_method: str = "card",
    quoted_total: int | None = None,
    account=None,
    status: str | None = None,
    **extra,
):
    lines = (
        [LineInput(description="Screen replacement", unit_price=total)]
        if total
        else [LineInput(description="Diagnosis (quote to follow)", unit_price=0)]
    )
    order = order_open(
        account=account or make_account(),
        kind=kind,
        payment_method=payment_method,
        lines=lines,
        quoted_total=quoted_total,
        **extra,
    )
    if status:
        from orderdesk.orders.services import order_transition

        for step in {
            "in_progress": ["in_progress"],
            "ready_to_ship": ["in_progress", "ready_to_ship"],
        }[status]:
            order_transition(order, step)
    return order


def authorize(
    order, number: str = APPROVE_CARD, *, source=AuthorizationSource.STOREFRONT, **kwargs
):
    return authorization_request(
        order=order,
        payment_token=card_token(number),
        method="card",
        source=source,
        **kwargs,
    )
