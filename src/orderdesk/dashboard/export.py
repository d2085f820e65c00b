"""The unpaid panel as CSV: streamed, every matching row, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from orderdesk.common.clock import now
from orderdesk.common.money import format_minor
from orderdesk.common.spreadsheet import spreadsheet_safe
from orderdesk.dashboard import forms
from orderdesk.dashboard.access import staff_required
from orderdesk.dashboard.templatetags.dashboard import expiry_phrase
from orderdesk.orders.models import OrderKind, PaymentState
from orderdesk.unpaid.groups import GROUPS
from orderdesk.unpaid.rows import unpaid_export_rows

CSV_CHUNK_ROWS = 500


def _csv_chunks(rows):
    """The CSV text in chunks of a few hundred rows: the header alone first, so the first byte
    leaves before the rows are read, then no per-row write to the server."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for index, row in enumerate(rows):
        writer.writerow([_csv_cell(cell) for cell in row])
        if index % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


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


def _csv_cell(value) -> str:
    """Keep spreadsheet programs from running a cell as a formula."""
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
    per row (the business zone and the labels are read once)."""
    # Longer than 40 lines because the row is unpacked and written column by column, in
    # the order of CSV_HEADER: a table, kept in one place so the two cannot drift.
    yield CSV_HEADER
    zone = timezone.get_current_timezone()
    moment = now()
    group_labels = [group.label for group in GROUPS]
    kinds = dict(OrderKind.choices)
    states = dict(PaymentState.choices)
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
        yield [
            number,
            group_labels[urgency],
            account_name,
            account_email,
            kinds.get(kind, kind),
            format_minor(total, currency),
            # Nothing is held once the authorization has expired (as Order.held_at).
            format_minor(authorized if expires and expires > moment else 0, currency),
            states.get(state, state),
            expires.astimezone(zone).isoformat(timespec="minutes") if expires else "",
            expiry_phrase(expires, moment),
            delivery.isoformat() if delivery else "",
            last_action,
            acted.astimezone(zone).isoformat(timespec="minutes") if acted else "",
            f"{first_name} {last_name}".strip() or username or "",
        ]


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
