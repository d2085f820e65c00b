"""The CSV export's fast formatting writes the same bytes as the formatting it replaced.

`previous_csv_rows` is the export's row formatting as it was (`format_minor` per amount, the
zone conversion per timestamp); the export's own `_csv_rows` must agree with it cell for cell
on the edge cases, and the written CSV must be byte-identical.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from orderdesk.common.money import format_minor, money_formatter
from orderdesk.common.spreadsheet import spreadsheet_safe
from orderdesk.dashboard.export import _csv_rows
from orderdesk.dashboard.templatetags.dashboard import expiry_phrase
from orderdesk.orders.models import OrderKind, PaymentState
from orderdesk.unpaid.groups import GROUPS

NOW = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)  # the morning US clocks move forward


def previous_csv_rows(rows):
    """The export's formatting before per-currency formatters (kept here as the reference),
    with nobody assigned written as an empty cell."""
    zone = timezone.get_current_timezone()
    moment = NOW
    kinds, states = dict(OrderKind.choices), dict(PaymentState.choices)
    for row in rows:
        (number, urgency, name, email, kind, total, authorized, currency, state) = row[:9]
        expires, delivery, last_action, acted, first, last, username = row[9:]
        expires = expires if expires is None or expires.tzinfo else expires.replace(tzinfo=UTC)
        acted = acted if acted is None or acted.tzinfo else acted.replace(tzinfo=UTC)
        yield (
            spreadsheet_safe(number),
            GROUPS[urgency].label,
            spreadsheet_safe(name),
            spreadsheet_safe(email),
            kinds.get(kind, kind),
            spreadsheet_safe(format_minor(total, currency)),
            spreadsheet_safe(
                format_minor(authorized if expires and expires > moment else 0, currency)
            ),
            states.get(state, state),
            expires.astimezone(zone).isoformat(timespec="minutes") if expires else "",
            expiry_phrase(expires, moment),
            delivery.isoformat() if delivery else "",
            spreadsheet_safe(last_action),
            acted.astimezone(zone).isoformat(timespec="minutes") if acted else "",
            "" if username is None else spreadsheet_safe(f"{first} {last}".strip() or username),
        )


def row(**changes) -> tuple:
    values = {
        "number": "A1001",
        "urgency": 0,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "kind": "repair",
        "total": 14900,
        "authorized": 14900,
        "currency": "USD",
        "state": "failed",
        "expires": NOW + timedelta(days=2),
        "delivery": date(2026, 3, 20),
        "last_action": "Authorization declined",
        "acted": NOW - timedelta(hours=3),
        "first": "Grace",
        "last": "Hopper",
        "username": "grace",
    }
    values.update(changes)
    return tuple(values.values())


EDGE_ROWS = [
    row(),
    row(total=0, authorized=0),
    row(total=-1, authorized=-250),  # negative amounts read as formulas: made text
    row(total=-123456789, currency="USD"),
    row(total=5, authorized=0, currency="JPY"),
    row(total=1234567, authorized=-1, currency="JPY"),
    row(total=1001, currency="KWD"),
    row(total=100, currency="jpy"),
    row(total=10**15, currency="EUR"),
    row(expires=None, delivery=None, acted=None),  # NULL dates
    row(expires=NOW.replace(tzinfo=None), acted=NOW.replace(tzinfo=None)),  # SQLite: naive
    row(expires=NOW - timedelta(minutes=1), authorized=999),  # lapsed: nothing held
    row(expires=NOW + timedelta(seconds=30)),
    row(expires=datetime(2026, 11, 1, 5, 59, tzinfo=UTC)),  # around the autumn change
    row(expires=datetime(2026, 11, 1, 6, 1, tzinfo=UTC)),
    row(urgency=4, kind="sale", state="awaiting_price"),
    row(kind="unknown-kind", state="unknown-state"),
    row(number="=1+1", name="@SUM(A1)", email="+1@example.com", last_action="-x"),
    row(name="\u00a0=cmd", first="", last="", username="=evil"),
    row(first="", last="", username=""),
    row(first=None, last=None, username=None),  # nobody assigned (an outer join's NULLs)
    row(name='Zoë, "quoted"\nline', email=""),
]


@pytest.mark.parametrize("edge", EDGE_ROWS, ids=[str(index) for index in range(len(EDGE_ROWS))])
def test_each_exported_row_is_the_previous_formatting(edge):
    with time_machine.travel(NOW, tick=False):
        assert list(_csv_rows([edge])) == list(previous_csv_rows([edge]))


def test_the_exported_csv_is_byte_identical_to_the_previous_formatting():
    def written(rows) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode()

    with time_machine.travel(NOW, tick=False):
        assert written(_csv_rows(EDGE_ROWS)) == written(previous_csv_rows(EDGE_ROWS))


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "BHD", "EUR", "jpy"])
@pytest.mark.parametrize(
    "amount", [0, 1, -1, 9, 10, 99, 100, -100, 101, 999, 1000, -1000, 123456789, -987654321]
)
def test_a_currency_formatter_writes_what_format_minor_writes(currency, amount):
    assert money_formatter(currency)(amount) == format_minor(amount, currency)
