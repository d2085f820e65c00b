"""The unpaid panel's sorted pages, its deep pages and its search, read from indexes."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from orderdesk.common.clock import now
from orderdesk.unpaid import search
from orderdesk.unpaid.rows import SORTS, unpaid_panel, unpaid_panel_queryset
from tests.dashboard.scenario import aged_authorization
from tests.factories import DECLINE_CARD, authorize, make_account, make_order

pytestmark = pytest.mark.django_db


def tied_orders() -> list:
    """Orders of every group sharing their total and delivery date, some without a date."""
    day = now().date() + timedelta(days=40)
    orders = []
    for index in range(9):
        date = None if index % 3 == 0 else day
        order = make_order(total=5_000, estimated_delivery_date=date)
        if index % 4 == 1:
            authorize(order, DECLINE_CARD)
        orders.append(order)
    aged_authorization(make_order(total=5_000, estimated_delivery_date=day), days_ago=27)
    aged_authorization(make_order(total=5_000), days_ago=31)
    return orders


@pytest.mark.parametrize("sort", [key for key in SORTS if key != "urgency"])
def test_pages_of_a_sort_with_ties_in_its_key_hold_every_row_once_in_the_full_lists_order(
    csr, sort
):
    """Ties are broken by id both ways, so pages read forwards (the first half) and
    backwards (the second half, in reverse and turned round) meet without a gap or overlap."""
    tied_orders()
    everything = [order.number for order in unpaid_panel_queryset(user=csr, sort=sort)]
    panels = [unpaid_panel(user=csr, per_page=2, page=page, sort=sort) for page in range(1, 7)]
    paged = [order.number for panel in panels for order in panel.rows]
    assert len(everything) == 11 and panels[0].pages == 6
    assert paged == everything


def test_the_last_page_of_the_urgency_order_is_the_tail_of_the_full_list(csr):
    tied_orders()
    everything = [order.number for order in unpaid_panel_queryset(user=csr)]
    for per_page in (2, 3, 4):
        last = unpaid_panel(user=csr, per_page=per_page, page=10_000)
        start = (last.pages - 1) * per_page
        assert [order.number for order in last.rows] == everything[start:]


def numbers(csr, search: str) -> set[str]:
    return {order.number for order in unpaid_panel(user=csr, search=search).rows}


def test_search_finds_a_partial_account_name_or_e_mail_in_any_case(csr):
    wanted = make_order(
        account=make_account(name="Harbour Marine Ltd", ecommerce_email="ops@harbour.example")
    )
    make_order(account=make_account(name="Hillside Bakery", ecommerce_email="b@hill.example"))
    assert numbers(csr, "bour mar") == {wanted.number}
    assert numbers(csr, "OPS@HARB") == {wanted.number}
    assert numbers(csr, "nobody such") == set()


def test_search_finds_an_order_number_by_its_beginning_in_any_case(csr):
    first = make_order(number="ZX-1001")
    second = make_order(number="zx-1002")
    make_order(number="AB-1001")
    assert numbers(csr, "zx-100") == {first.number, second.number}
    assert numbers(csr, "ZX-1001") == {first.number}
    assert numbers(csr, "1001") == set()  # the beginning of the number, not any part


def test_search_over_many_matching_accounts_finds_the_same_orders(csr, monkeypatch):
    """Beyond SEARCH_ACCOUNTS_LISTED accounts the search walks the panel's ranges (naming
    the few accounts that do not match) instead of finding the accounts' orders; the rows
    and counts are the same."""
    matching = [make_order(account=make_account(name=f"Delta Repairs {n}")) for n in range(4)]
    make_order(account=make_account(name="Other Shop"))
    listed = unpaid_panel(user=csr, search="delta")
    monkeypatch.setattr(search, "SEARCH_ACCOUNTS_LISTED", 2)
    walked = unpaid_panel(user=csr, search="delta")
    assert (
        {o.number for o in walked.rows}
        == {o.number for o in listed.rows}
        == {o.number for o in matching}
    )
    assert walked.counts == listed.counts


def test_search_through_the_dashboard_page_shows_only_the_matches(client, csr):
    wanted = make_order(account=make_account(name="Quayside Motors"))
    other = make_order(account=make_account(name="Upland Farm"))
    client.force_login(csr)
    page = client.get(reverse("dashboard:index"), {"q": "quaysi"}).content.decode()
    assert f">{wanted.number}</a>" in page and f">{other.number}</a>" not in page


def test_the_export_neutralizes_formulas_in_every_cell_people_type_and_keeps_the_rest(client, csr):
    make_order(account=make_account(name="=HYPERLINK(1)", ecommerce_email="@evil.example"))
    make_order(account=make_account(name="Plain Name", ecommerce_email="plain@example.com"))
    make_order(number="-2+3")
    client.force_login(csr)
    response = client.get(reverse("dashboard:unpaid-csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    cells = {cell for row in rows[1:] for cell in row}
    assert {"'=HYPERLINK(1)", "'@evil.example", "'-2+3", "Plain Name"} <= cells
    assert not {"=HYPERLINK(1)", "@evil.example", "-2+3"} & cells
    assert rows[0][0] == "Order" and all(len(row) == len(rows[0]) for row in rows)
