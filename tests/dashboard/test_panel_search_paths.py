"""The panel's search shows the same orders, counts and pages whichever way it reads them:
a few orders found through their own indexes, or many tested while walking the panel."""

from datetime import timedelta

import pytest

from orderdesk.common.clock import now
from orderdesk.orders.models import Order
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.unpaid import search
from orderdesk.unpaid.rows import unpaid_panel
from orderdesk.unpaid.search import search_for
from tests.dashboard.scenario import aged_authorization
from tests.factories import DECLINE_CARD, authorize, make_account, make_order

pytestmark = pytest.mark.django_db


def whole_panel(csr, text: str, sort: str = "urgency") -> tuple[dict, list[str]]:
    """The counts and every row, read two a page (so several pages and groups are read)."""
    first = unpaid_panel(user=csr, search=text, sort=sort, per_page=2)
    pages = [first] + [
        unpaid_panel(user=csr, search=text, sort=sort, per_page=2, page=page)
        for page in range(2, first.pages + 1)
    ]
    return first.counts, [order.number for panel in pages for order in panel.rows]


def resolved(text: str):
    return search_for(text, now())


def prefixed_orders(account=None) -> set[str]:
    """Orders numbered QX-… in both cases (of `account`) in every kind of group, and two
    that must not show."""
    failed = make_order(number="QX-10", account=account)
    authorize(failed, DECLINE_CARD)
    expired = make_order(number="qx-11", account=account)
    aged_authorization(expired, days_ago=31)
    expiring = make_order(number="Qx-12", total=9_000, account=account)
    aged_authorization(expiring, days_ago=27)
    delivery = now().date() + timedelta(days=45)
    late = make_order(number="QX-13", estimated_delivery_date=delivery, account=account)
    authorize(late)  # expires before its delivery date
    unauthorized = [
        make_order(number=f"qX-2{n}", total=1_000 * n, account=account) for n in range(3)
    ]
    authorize(make_order(number="QX-30", account=account))  # secured: not on the panel
    make_order(number="QY-10")  # another prefix and account
    authorizations_expire()
    return {order.number for order in (failed, expired, expiring, late, *unauthorized)}


@pytest.mark.parametrize("sort", ["urgency", "expiry", "-total", "number"])
def test_a_number_prefix_shows_the_same_whether_found_by_number_or_by_walking_the_panel(
    csr, monkeypatch, sort
):
    expected = prefixed_orders()
    assert resolved("qx-").few
    found = whole_panel(csr, "qx-", sort)
    monkeypatch.setattr(search, "SEARCH_FEW_ORDERS", 1)
    assert not resolved("qx-").few
    walked = whole_panel(csr, "qx-", sort)
    assert walked == found
    assert set(found[1]) == expected and len(found[1]) == len(expected)
    assert found[0]["failed"] == found[0]["expired"] == 1 and found[0]["expiring"] == 2


@pytest.mark.parametrize("sort", ["urgency", "-expiry", "total"])
def test_an_account_search_shows_the_same_whether_its_orders_are_listed_or_the_panel_walked(
    csr, monkeypatch, sort
):
    expected = prefixed_orders(make_account(name="Harbour Marine"))
    assert resolved("harbour").few
    found = whole_panel(csr, "harbour", sort)
    monkeypatch.setattr(search, "SEARCH_FEW_ORDERS", 2)
    assert not resolved("harbour").few
    assert whole_panel(csr, "harbour", sort) == found
    assert set(found[1]) == expected and len(found[1]) == len(expected)


def account_orders(names: list[str]) -> dict[str, str]:
    return {name: make_order(account=make_account(name=name)).number for name in names}


def sql_of(text: str) -> str:
    return str(Order.objects.filter(resolved(text).condition).query)


def test_when_nearly_every_account_matches_the_others_are_named_and_the_orders_are_the_same(
    csr, monkeypatch
):
    numbers = account_orders(["Delta Repairs 1", "Delta Repairs 2", "Delta Marine", "Other"])
    listed = whole_panel(csr, "delta")
    monkeypatch.setattr(search, "SEARCH_ACCOUNTS_LISTED", 2)
    assert "NOT" in sql_of("delta") and "accounts_account" not in sql_of("delta")
    assert whole_panel(csr, "delta") == listed
    assert set(listed[1]) == {numbers[name] for name in numbers if name != "Other"}


def test_a_search_every_account_matches_shows_the_whole_panel(csr, monkeypatch):
    account_orders(["Delta Repairs 1", "Delta Repairs 2", "Delta Marine"])
    monkeypatch.setattr(search, "SEARCH_ACCOUNTS_LISTED", 1)
    assert whole_panel(csr, "delta") == whole_panel(csr, "")


def test_beyond_the_list_both_ways_the_accounts_are_a_subquery_and_the_orders_the_same(
    csr, monkeypatch
):
    numbers = account_orders(["Delta 1", "Delta 2", "Delta 3", "Other 1", "Other 2", "Other 3"])
    listed = whole_panel(csr, "delta")
    monkeypatch.setattr(search, "SEARCH_ACCOUNTS_LISTED", 2)
    assert "accounts_account" in sql_of("delta")
    assert whole_panel(csr, "delta") == listed
    assert set(listed[1]) == {numbers[name] for name in numbers if name.startswith("Delta")}


def test_a_wildcard_in_a_number_search_is_a_plain_character_either_way(csr, monkeypatch):
    wanted = make_order(number="Q_1%")
    make_order(number="QZ1A")
    make_order(number="Q_1B")
    assert whole_panel(csr, "q_1%")[1] == [wanted.number]
    monkeypatch.setattr(search, "SEARCH_FEW_ORDERS", 1)
    assert not resolved("q_1%").few
    assert whole_panel(csr, "q_1%")[1] == [wanted.number]
