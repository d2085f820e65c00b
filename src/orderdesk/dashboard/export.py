"""The unpaid panel as CSV: streamed, every matching row, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import itertools
import string
from datetime import UTC

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from orderdesk.common.clock import now
from orderdesk.common.money import money_formatter
from orderdesk.common.spreadsheet import spreadsheet_safe
from orderdesk.dashboard import forms
from orderdesk.dashboard.access import staff_required
from orderdesk.dashboard.templatetags.dashboard import expiry_phrase
from orderdesk.orders.models import OrderKind, PaymentState
from orderdesk.unpaid.export_rows import unpaid_export_rows
from orderdesk.unpaid.groups import GROUPS

CSV_CHUNK_ROWS = 500


def _csv_chunks(rows):
    """The CSV text in chunks of a few hundred rows: the header alone first, so the first byte
    leaves before the rows are read, then each chunk written by one `writerows` call."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield buffer.getvalue()
    for chunk in _batched(rows, CSV_CHUNK_ROWS):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(chunk)
        yield buffer.getvalue()


def _batched(rows, size: int):
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


CSV_HEADER = [
    "Order",
    "Group",
    "Account",
    "E-mail",
    "Kind",
    "Total",
    "Authorized",
    "Payment state",
    "Expires at",
    "Time to expiry",
    "Estimated delivery",
    "Last action",
    "Last action at",
    "Assigned to",
]


# A cell starting with one of these cannot be read as a formula whatever follows: the full
# check (spreadsheet_safe) runs only on the others, so the export pays for it rarely.
_PLAIN_STARTS = frozenset(string.ascii_letters + string.digits)


def _csv_cell(value) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
    if value and value[0] in _PLAIN_STARTS:
        return value
    return spreadsheet_safe(value)


CSV_FIELDS = (
    "number",
    "urgency",
    "account__name",
    "account__ecommerce_email",
    "kind",
    "total",
    "authorized_amount",
    "currency",
    "payment_state",
    "payment_expires_at",
    "estimated_delivery_date",
    "last_action",
    "last_action_at",
    "assigned_to__first_name",
    "assigned_to__last_name",
    "assigned_to__username",
)


def _csv_rows(rows):
    """The export's rows from plain tuples: no model object, display look-up or zone look-up
    per row (the business zone and the labels are read once, each amount's cell is written
    once per currency). The cells that hold what people typed (or an amount, which could be
    negative) pass through `_csv_cell`; the others are labels and timestamps of ours."""
    # Longer than 40 lines because the row is unpacked and written column by column, in
    # the order of CSV_HEADER: a table, kept in one place so the two cannot drift.
    zone = timezone.get_current_timezone()
    moment = now()
    group_labels = [group.label for group in GROUPS]
    kinds = dict(OrderKind.choices)
    states = dict(PaymentState.choices)
    amounts = _AmountCells()
    safe = _csv_cell
    for (
        number,
        urgency,
        account_name,
        account_email,
        kind,
        total,
        authorized,
        currency,
        state,
        expires,
        delivery,
        last_action,
        acted,
        first_name,
        last_name,
        username,
    ) in rows:
        cells = amounts[currency]
        if expires is not None and expires.tzinfo is None:  # SQLite's are naive UTC
            expires = expires.replace(tzinfo=UTC)
        if acted is not None and acted.tzinfo is None:
            acted = acted.replace(tzinfo=UTC)
        yield (
            safe(number),
            group_labels[urgency],
            safe(account_name),
            safe(account_email),
            kinds.get(kind, kind),
            cells[total],
            # Nothing is held once the authorization has expired (as Order.held_at).
            cells[authorized if expires and expires > moment else 0],
            states.get(state, state),
            expires.astimezone(zone).isoformat(timespec="minutes") if expires else "",
            expiry_phrase(expires, moment) if expires else "",
            delivery.isoformat() if delivery else "",
            safe(last_action),
            acted.astimezone(zone).isoformat(timespec="minutes") if acted else "",
            # Nobody assigned: the outer join's three columns are all NULL.
            "" if username is None else safe(f"{first_name} {last_name}".strip() or username),
        )


class _AmountCells(dict):
    """Per currency met, the cells of its amounts: each amount formatted and made safe once
    (an export repeats the same prices and the zero held by every lapsed authorization)."""

    def __missing__(self, currency: str):
        cells = self[currency] = _CurrencyCells(money_formatter(currency))
        return cells


class _CurrencyCells(dict):
    def __init__(self, formatted):
        super().__init__()
        self.formatted = formatted

    def __missing__(self, amount: int) -> str:
        cell = self[amount] = _csv_cell(self.formatted(amount))
        return cell


@require_GET
@staff_required()
def unpaid_csv(request):
    """Every order the panel shows under the current filters and sort (all pages)."""
    filters = forms.PanelFilterForm(request.GET).filters()
    rows = unpaid_export_rows(user=request.user, fields=CSV_FIELDS, **filters)
    response = StreamingHttpResponse(
        _csv_chunks(_csv_rows(rows)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="unpaid-orders-{stamp}.csv"'
    return response


# The order screen
