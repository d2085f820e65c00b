"""`orderdesk import-orders FILE.csv`: valid rows imported, bad rows named, idempotent."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orderdesk.accounts.models import Account
from orderdesk.operations.order_import import COLUMNS, ImportFileError, orders_import
from orderdesk.orders.models import Order, OrderEvent, PaymentState

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)
GOOD = [
    "R-5001,Ada Lovelace,ada@example.com,+1 555 0101,repair,card,USD,125.00,125.00,iPhone 13 screen replacement,2031-12-24",
    "R-5002,Ada Lovelace,ADA@example.com,,repair,paypal,,0,0,Diagnosis: no power,",
    'S-5003,"Harbor Point Realty, LLC",ap@example.com,,sale,terms,usd,,"1,299.99",Refurbished MacBook Air,',
]


def write_csv(tmp_path, *rows, name="orders.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def run(path):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_orders", str(path), stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), str(error)
    return out.getvalue(), err.getvalue(), None


def test_good_rows_are_imported_with_exact_amounts_and_one_account_per_email(tmp_path):
    out, err, failure = run(write_csv(tmp_path, *GOOD))
    assert failure is None and err == ""
    assert "3 imported, 0 skipped" in out
    first = Order.objects.get(number="R-5001")
    assert (first.total, first.quoted_total, first.currency) == (12500, 12500, "USD")
    assert first.estimated_delivery_date == date(2031, 12, 24)
    assert first.payment_state == PaymentState.UNAUTHORIZED
    assert first.lines.get().description == "iPhone 13 screen replacement"
    zero = Order.objects.get(number="R-5002")
    assert zero.payment_state == PaymentState.AWAITING_PRICE
    assert zero.account_id == first.account_id  # e-mail matched case-insensitively
    sale = Order.objects.get(number="S-5003")
    assert (sale.total, sale.currency, sale.payment_method) == (129999, "USD", "terms")
    assert sale.account.name == "Harbor Point Realty, LLC"
    assert Account.objects.count() == 2
    assert OrderEvent.objects.filter(kind="created").count() == 3


def test_importing_the_same_file_twice_adds_nothing(tmp_path):
    path = write_csv(tmp_path, *GOOD)
    run(path)
    out, _, failure = run(path)
    assert failure is None
    assert "0 imported, 3 skipped" in out
    assert Order.objects.count() == 3
    assert Account.objects.count() == 2


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (",Ann,ann@example.com,,repair,card,USD,10,10,Fix,", "number", "is required"),
        ("X 1,Ann,ann@example.com,,repair,card,USD,10,10,Fix,", "number", "spaces"),
        ("X1,Ann,not-an-email,,repair,card,USD,10,10,Fix,", "email", "not an e-mail"),
        ("X1,Ann,ann@example.com,,rental,card,USD,10,10,Fix,", "kind", "must be one of"),
        ("X1,Ann,ann@example.com,,repair,cash,USD,10,10,Fix,", "payment_method", "must be one of"),
        ("X1,Ann,ann@example.com,,repair,card,US,10,10,Fix,", "currency", "ISO 4217"),
        ("X1,Ann,ann@example.com,,repair,card,USD,10,12.345,Fix,", "total", "decimal places"),
        ("X1,Ann,ann@example.com,,repair,card,USD,10,-5,Fix,", "total", "not an amount"),
        ("X1,Ann,ann@example.com,,repair,card,USD,abc,10,Fix,", "quoted_total", "not an amount"),
        ("X1,Ann,ann@example.com,,repair,card,USD,10,99999999999,Fix,", "total", "too large"),
        ("X1,Ann,ann@example.com,,sale,card,USD,0,0,Cable,", "total", "a sale must cost"),
        (
            "X1,Ann,ann@example.com,,repair,card,USD,10,10,Fix,24/12/2026",
            "estimated_delivery_date",
            "2026-12-24",
        ),
        (
            "X1,Ann,ann@example.com,,repair,card,USD,10,10,Fix,2020-01-15",
            "estimated_delivery_date",
            "The estimated delivery date Jan 15, 2020 is in the past",
        ),
        ("X1,Ann,ann@example.com,,repair,card,USD,10,10,,", "description", "is required"),
        ("X1,Ann\x00,ann@example.com,,repair,card,USD,10,10,Fix,", "account_name", "NUL"),
    ],
)
def test_a_bad_row_is_reported_by_row_and_column_and_the_good_rows_still_import(
    tmp_path, row, column, words
):
    _, err, failure = run(write_csv(tmp_path, GOOD[0], row, GOOD[2]))
    assert failure is not None and "2 imported, 0 skipped" in failure and "1 error" in failure
    assert f"row 3, column {column}: " in err
    assert words in err
    assert set(Order.objects.values_list("number", flat=True)) == {"R-5001", "S-5003"}


def test_a_number_repeated_in_the_file_is_an_error_on_the_later_row(tmp_path):
    _, err, failure = run(write_csv(tmp_path, GOOD[0], GOOD[0]))
    assert failure is not None
    assert "row 3, column number: R-5001 is also on row 2" in err
    assert Order.objects.filter(number="R-5001").count() == 1


def test_every_error_of_a_row_is_listed():
    result = orders_import(
        [HEADER, "X1,Ann,nope,,rental,cash,USD,1,1,Fix,tomorrow"], write=lambda _: None
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "kind"),
        (2, "payment_method"),
        (2, "email"),
        (2, "estimated_delivery_date"),
    ]
    assert Order.objects.count() == 0


def test_a_file_without_the_columns_is_refused_before_any_row(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("number,name\nR-1,Ann\n", encoding="utf-8")
    _, _, failure = run(path)
    assert "missing column(s)" in failure and "email" in failure
    assert Order.objects.count() == 0
    with pytest.raises(ImportFileError):
        orders_import(["number,name", "R-1,Ann"], write=lambda _: None)


def test_a_missing_file_is_a_clear_error(tmp_path):
    _, _, failure = run(tmp_path / "absent.csv")
    assert "no such file" in failure


def test_a_spreadsheet_export_with_a_byte_order_mark_imports(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + HEADER + "\r\n" + GOOD[0] + "\r\n").encode("utf-8"))
    _, _, failure = run(path)
    assert failure is None
    assert Order.objects.filter(number="R-5001").exists()


def test_import_shows_progress(tmp_path):
    rows = [
        f"B-{n},Bulk Buyer,bulk@example.com,,sale,card,USD,,{n}.00,Cable," for n in range(1, 31)
    ]
    out, _, failure = run(write_csv(tmp_path, *rows))
    assert failure is None
    assert "rows: 3/30" in out and "rows: 30/30" in out
