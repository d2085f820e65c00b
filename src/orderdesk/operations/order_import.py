"""Import orders from a CSV file, through the order services.

Columns: number, account_name, email, phone, kind, payment_method, currency, quoted_total,
total, description, estimated_delivery_date; optionally the authorization the storefront
made (authorization_gateway, authorization_reference, authorized_amount, authorized_at,
authorization_expires_at), checked with that gateway before the row is imported, a
mismatch reported on its row. Amounts are major units ("125.00"), parsed
exactly; the date is YYYY-MM-DD. Every row is checked first and each error names its row
(as a spreadsheet numbers it: the header is row 1) and column. Valid rows are imported, one
transaction each; a number that exists already is skipped, so importing twice adds nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from orderdesk.accounts.services import account_for_email
from orderdesk.common.errors import BusinessRuleError
from orderdesk.common.money import parse_major
from orderdesk.orders.models import Order, OrderKind, PaymentMethod
from orderdesk.orders.services import LineInput, delivery_date_check
from orderdesk.payments.services import (
    StorefrontAuthorization,
    storefront_authorization_check,
    storefront_authorization_record,
)
from orderdesk.workflows.intake import order_open

COLUMNS = [
    "number",
    "account_name",
    "email",
    "phone",
    "kind",
    "payment_method",
    "currency",
    "quoted_total",
    "total",
    "description",
    "estimated_delivery_date",
]
# The storefront's own authorization; a file without these columns imports as before.
AUTHORIZATION_COLUMNS = [
    "authorization_gateway",
    "authorization_reference",
    "authorized_amount",
    "authorized_at",
    "authorization_expires_at",
]
REQUIRED = {"number", "account_name", "email", "kind", "payment_method", "total", "description"}
MAX_LENGTHS = {"number": 40, "account_name": 200, "phone": 40, "description": 300}
MAX_AMOUNT = 10**12  # minor units: far above any real order, far below the column's limit


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportRow:
    row: int
    number: str
    account_name: str
    email: str
    phone: str
    kind: str
    payment_method: str
    currency: str
    quoted_total: int
    total: int
    description: str
    estimated_delivery_date: date | None
    authorization: StorefrontAuthorization | None = None


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing columns, not CSV, not UTF-8)."""


def orders_import_file(path, *, write: Callable[[str], None] = print) -> ImportResult:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return orders_import(handle, write=write)
    except UnicodeDecodeError as error:
        raise ImportFileError(f"the file is not UTF-8 text ({error.reason})") from error


def orders_import(lines: Iterable[str], *, write: Callable[[str], None] = print) -> ImportResult:
    reader = csv.DictReader(lines)
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise ImportFileError(f"row 1: missing column(s) {', '.join(missing)}")
    result = ImportResult()
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        row, errors = row_parse(number, raw)
        if row and row.number in seen:
            errors.append(
                RowError(number, "number", f"{row.number} is also on row {seen[row.number]}")
            )
        if errors:
            result.errors.extend(errors)
            continue
        seen[row.number] = number
        rows.append(row)
    _import_rows(rows, result, write)
    return result


def _import_rows(rows: list[ImportRow], result: ImportResult, write) -> None:
    existing = set(
        Order.objects.filter(number__in=[row.number for row in rows]).values_list(
            "number", flat=True
        )
    )
    step = max(len(rows) // 10, 1)
    for done, row in enumerate(rows, start=1):
        if row.number in existing:
            result.skipped.append(row.number)
        else:
            _row_import(row, result)
        if done % step == 0 or done == len(rows):
            write(f"  rows: {done}/{len(rows)}")


def _row_import(row: ImportRow, result: ImportResult) -> None:
    checked = None
    if row.authorization is not None:
        try:  # a gateway call: outside the row's transaction
            checked = storefront_authorization_check(row.authorization)
        except BusinessRuleError as refusal:
            result.errors.append(RowError(row.row, "authorization_reference", refusal.reason))
            return
    try:
        with transaction.atomic():
            order = _order_import(row)
            if checked is not None:
                storefront_authorization_record(
                    order=order, held=row.authorization, result=checked, actor=None
                )
    except BusinessRuleError as refusal:
        result.errors.append(RowError(row.row, "authorization_reference", refusal.reason))
        return
    result.imported.append(row.number)


def _order_import(row: ImportRow) -> Order:
    account = account_for_email(email=row.email, name=row.account_name, phone=row.phone)
    return order_open(
        account=account,
        kind=row.kind,
        payment_method=row.payment_method,
        lines=[LineInput(description=row.description, unit_price=row.total)],
        currency=row.currency,
        quoted_total=row.quoted_total,
        number=row.number,
        estimated_delivery_date=row.estimated_delivery_date,
    )


def row_parse(row: int, raw: dict) -> tuple[ImportRow | None, list[RowError]]:
    """Check one CSV row; return it typed, or the errors, one per column at fault."""
    errors: list[RowError] = []

    def fail(column: str, message: str) -> None:
        errors.append(RowError(row, column, message))

    if None in raw:
        fail("", "more values than columns")
    text = {column: (raw.get(column) or "").strip() for column in COLUMNS + AUTHORIZATION_COLUMNS}
    _check_text(text, fail)
    if errors:
        return None, errors
    typed = _typed(text, fail)
    if errors:
        return None, errors
    return ImportRow(row=row, **typed), []


def _check_text(text: dict[str, str], fail) -> None:
    for column, value in text.items():
        if "\x00" in value:
            fail(column, "contains a NUL character")
        elif column in REQUIRED and not value:
            fail(column, "is required")
        elif len(value) > MAX_LENGTHS.get(column, 10_000):
            fail(column, f"is longer than {MAX_LENGTHS[column]} characters")


def _choice(text: dict[str, str], column: str, choices, fail) -> str:
    value = text[column].lower()
    if value not in choices:
        fail(column, f"must be one of {', '.join(choices)}, not {text[column]!r}")
    return value


def _typed(text: dict[str, str], fail) -> dict:
    """The row's values as the order needs them; each value at fault is reported."""
    kind = _choice(text, "kind", OrderKind.values, fail)
    method = _choice(text, "payment_method", PaymentMethod.values, fail)
    if any(ch.isspace() for ch in text["number"]):
        fail("number", "must not contain spaces")
    try:
        validate_email(text["email"])
    except ValidationError:
        fail("email", f"{text['email']!r} is not an e-mail address")
    currency = _currency(text["currency"], fail)
    total = _amount(text["total"], currency, "total", fail)
    quoted = (
        _amount(text["quoted_total"], currency, "quoted_total", fail)
        if text["quoted_total"]
        else total
    )
    if total == 0 and kind == OrderKind.SALE:
        fail("total", "a sale must cost more than zero (only a repair may be quoted at zero)")
    delivery = _delivery_date(text["estimated_delivery_date"], fail)
    typed = dict(text, kind=kind, payment_method=method, currency=currency)
    typed.update(quoted_total=quoted, total=total, estimated_delivery_date=delivery)
    for column in AUTHORIZATION_COLUMNS:
        typed.pop(column)
    typed["authorization"] = _authorization(text, currency, fail)
    return typed


def _authorization(text: dict[str, str], currency: str, fail):
    if not any(text[column] for column in AUTHORIZATION_COLUMNS):
        return None
    for column in AUTHORIZATION_COLUMNS[:4]:
        if not text[column]:
            fail(column, "is required with a storefront authorization")
    authorized_at = _moment(text["authorized_at"], "authorized_at", fail)
    expires_at = _moment(text["authorization_expires_at"], "authorization_expires_at", fail)
    amount = _amount(text["authorized_amount"], currency, "authorized_amount", fail)
    if authorized_at is None or not amount:
        return None
    return StorefrontAuthorization(
        gateway=text["authorization_gateway"].lower(),
        reference=text["authorization_reference"][:100],
        amount=amount,
        currency=currency,
        authorized_at=authorized_at,
        expires_at=expires_at,
    )


def _moment(value: str, column: str, fail) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(column, "must be a time such as 2026-11-30T14:03:00Z")
        return None
    if moment.tzinfo is None:
        fail(column, "must say its time zone (Z or +hh:mm)")
        return None
    return moment


def _currency(value: str, fail) -> str:
    currency = (value or settings.ORDERDESK_CURRENCY).upper()
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        fail("currency", f"{value!r} is not a three-letter ISO 4217 code")
        return settings.ORDERDESK_CURRENCY
    return currency


def _delivery_date(value: str, fail) -> date | None:
    if not value:
        return None
    try:
        estimated = date.fromisoformat(value)
    except ValueError:
        fail("estimated_delivery_date", "must be a date such as 2026-12-24")
        return None
    try:
        delivery_date_check(estimated)
    except BusinessRuleError as refusal:
        fail("estimated_delivery_date", refusal.reason)
        return None
    return estimated


def _amount(value: str, currency: str, column: str, fail) -> int | None:
    try:
        amount = parse_major(value, currency)
    except ValueError as error:
        fail(column, f"{value!r} is not an amount: {error}")
        return None
    if amount >= MAX_AMOUNT:
        fail(column, f"{value!r} is too large")
        return None
    return amount
