"""CSV import columns for the storefront's own authorization: checked with the gateway, the
29-day clock from the real `authorized_at`, a mismatch reported on its row."""

import csv
import io
from datetime import timedelta

import pytest

from orderdesk.common.clock import now
from orderdesk.operations.order_import import AUTHORIZATION_COLUMNS, COLUMNS, orders_import
from orderdesk.orders.models import Order, PaymentState
from orderdesk.payments.models import Authorization
from orderdesk.sandbox import server
from tests.factories import card_token

pytestmark = pytest.mark.django_db


def csv_lines(*rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS + AUTHORIZATION_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().splitlines(True)


def row(number, reference, amount="80.00", authorized_at=None):
    return {
        "number": number,
        "account_name": "Di Importer",
        "email": "di@example.com",
        "kind": "repair",
        "payment_method": "card",
        "total": "80.00",
        "description": "Repair",
        "authorization_gateway": "sandbox",
        "authorization_reference": reference,
        "authorized_amount": amount,
        "authorized_at": (authorized_at or now() - timedelta(days=3)).isoformat(),
    }


def sandbox_hold(amount=8_000, key="csv-1"):
    return server.authorize(
        amount=amount, currency="USD", token=card_token(), idempotency_key=key
    ).reference


def test_an_imported_storefront_authorization_counts_29_days_from_its_checkout():
    checkout = (now() - timedelta(days=3)).replace(microsecond=0)

    result = orders_import(csv_lines(row("C-1", sandbox_hold(), authorized_at=checkout)), write=str)

    assert (result.imported, result.errors) == (["C-1"], [])
    authorization = Authorization.objects.get(order__number="C-1")
    assert authorization.expires_at == checkout + timedelta(days=29)
    assert Order.objects.get(number="C-1").payment_state == PaymentState.AUTHORIZED


def test_an_imported_authorization_the_gateway_does_not_match_is_an_error_on_its_row():
    result = orders_import(
        csv_lines(
            row("C-1", sandbox_hold(key="a"), amount="79.00"),
            row("C-2", "sbx_auth_nothing"),
            row("C-3", sandbox_hold(key="b")),
        ),
        write=str,
    )

    assert result.imported == ["C-3"]
    assert [(error.row, error.column) for error in result.errors] == [
        (2, "authorization_reference"),
        (3, "authorization_reference"),
    ]
    assert not Order.objects.filter(number__in=["C-1", "C-2"]).exists()
