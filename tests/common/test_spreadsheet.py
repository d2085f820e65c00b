"""CSV cells cannot run as spreadsheet formulas (OWASP CSV injection guidance)."""

import csv
import io

import pytest

from orderdesk.common.spreadsheet import spreadsheet_safe
from tests.factories import authorize, make_account, make_order


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example","x")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        " =1+1",
        "   @SUM(1)",
        "\n=1+1",
        "\u00a0=1+1",
        "\u00a0 \u2007-1",
        "\x00=1",
        "\x0b+1",
        "\u200b=1",
        "\ufeff=1",
        "\u3000=1",
        "\uff1d1+1",
        "\t",
        "\r",
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_made_text(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell",
    ["Ada Lovelace", "O'Brien", "a=b", "100-200", "ann@example.com", "", " plain", "$12.00", "1+1"],
)
def test_an_ordinary_cell_is_left_as_it_is(cell):
    assert spreadsheet_safe(cell) == cell


def test_none_and_numbers_become_their_text():
    assert spreadsheet_safe(None) == "" and spreadsheet_safe(12) == "12"
    assert spreadsheet_safe(-5) == "'-5"


@pytest.mark.django_db
def test_the_unpaid_export_neutralizes_a_name_with_a_leading_space_or_no_break_space(client, csr):
    for name in (" =cmd()", "\u00a0@SUM(1)", "\n+1"):
        make_order(account=make_account(name=name))
    authorize(make_order(account=make_account(name="Plain Name")))
    client.force_login(csr)
    response = client.get("/dashboard/unpaid.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = {row[2] for row in rows[1:]}
    assert {"' =cmd()", "'\u00a0@SUM(1)", "'\n+1"} <= names
