"""The `orderdesk` command: an ordinary error is one clear line and exit status 1."""

import pytest

from orderdesk.cli import main
from orderdesk.orders.models import Order

pytestmark = pytest.mark.django_db


def one_line_refusal(capsys, argv) -> str:
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in captured.err
    return captured.err


def test_a_missing_file_is_one_line_and_status_1(capsys, tmp_path):
    err = one_line_refusal(capsys, ["import-orders", str(tmp_path / "nope.csv")])
    assert err == f"orderdesk import-orders: no such file: {tmp_path / 'nope.csv'}\n"


def test_row_errors_are_listed_then_one_summary_line_and_status_1(capsys, tmp_path):
    from tests.operations.test_import_orders import GOOD, write_csv

    path = write_csv(tmp_path, GOOD[0], "X1,Ann,not-an-email,,repair,card,USD,10,10,Fix,")
    err = one_line_refusal(capsys, ["import-orders", str(path)])
    assert "row 3, column email" in err
    assert err.splitlines()[-1].startswith("orderdesk import-orders: 1 imported, 0 skipped")
    assert Order.objects.filter(number="R-5001").exists()


def test_a_short_password_is_one_line_and_status_1_and_creates_nobody(capsys):
    from django.contrib.auth import get_user_model

    err = one_line_refusal(capsys, ["createstaff", "ann", "--role", "csr", "--password", "short"])
    assert err == "orderdesk createstaff: the password needs at least 8 characters\n"
    assert not get_user_model().objects.filter(username="ann").exists()
