"""The dashboard issues a fixed number of queries, whatever the number of unpaid orders."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orderdesk.orders.services import order_assign
from tests.dashboard.scenario import aged_authorization
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db


def add_unpaid_orders(count: int, *, assignee, csr) -> None:
    for index in range(count):
        order = make_order(kind=("repair", "sale")[index % 2])
        match index % 4:
            case 0:
                authorize(order, DECLINE_CARD)
            case 1:
                aged_authorization(order, days_ago=27)
            case 2:
                aged_authorization(order, days_ago=31)
        if index % 3 == 0:
            order_assign(order=order, actor=csr, assignee=assignee)


def logged_in(client, user) -> None:
    """Log in and make the first request: a session made without the log-in form asks
    about two-factor devices once and notes the answer, which later requests reuse."""
    client.force_login(user)
    client.get(reverse("dashboard:index"))


def dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("dashboard:index"))
    assert response.status_code == 200
    return len(captured)


def test_dashboard_queries_do_not_grow_with_unpaid_orders(
    client, csr, supervisor, django_assert_num_queries
):
    logged_in(client, csr)
    add_unpaid_orders(5, assignee=supervisor, csr=csr)
    cache.clear()
    with_five = dashboard_queries(client)
    add_unpaid_orders(55, assignee=supervisor, csr=csr)
    cache.clear()  # the figures beside the panel are counted again, as in the first request
    with django_assert_num_queries(with_five):
        response = client.get(reverse("dashboard:index"))
    assert response.content.decode().count('<tr class="row-') == 50  # a full page of rows


def test_panel_fragment_and_export_query_counts_do_not_grow(client, csr, supervisor):
    logged_in(client, csr)
    add_unpaid_orders(5, assignee=supervisor, csr=csr)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dashboard:index"), HTTP_HX_REQUEST="true")
        b"".join(client.get(reverse("dashboard:unpaid-csv")).streaming_content)
    add_unpaid_orders(55, assignee=supervisor, csr=csr)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("dashboard:index"), HTTP_HX_REQUEST="true")
        b"".join(client.get(reverse("dashboard:unpaid-csv")).streaming_content)
    assert len(many) == len(few)


def test_the_panel_page_is_one_count_query_plus_one_per_group_on_the_page(csr):
    """The counts are one query; the urgency page reads each group it spans with an
    index-ordered query of its own (so no query sorts every unpaid order): at most six."""
    from orderdesk.unpaid.groups import GROUPS
    from orderdesk.unpaid.rows import unpaid_panel

    add_unpaid_orders(12, assignee=csr, csr=csr)
    with CaptureQueriesContext(connection) as captured:
        panel = unpaid_panel(user=csr)
        [(row.account.name, row.assigned_to) for row in panel.rows]
    spanned = {row.panel_group.key for row in panel.rows}
    assert len(spanned) == 4
    assert len(captured) == 1 + len(spanned) <= 1 + len(GROUPS), [q["sql"] for q in captured]
    # Sorted by another key: the counts, the page's ids among each range's first rows (sorted
    # by the keys the index walks carry), then only the page's rows.
    with CaptureQueriesContext(connection) as captured:
        unpaid_panel(user=csr, sort="total")
    assert len(captured) == 3, [query["sql"] for query in captured]


# Session, user, permissions (two), then the screen's: the order, lines, payments (four: the
# authorizations listed also answer whether one is current or lapsed, and the captures and
# recorded payments listed give the amount paid), timeline, roles, open link.
ORDER_SCREEN_QUERY_CEILING = 13


def order_screen_queries(client, order) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("dashboard:order", args=[order.number]))
    assert response.status_code == 200
    return len(captured)


def test_the_order_screen_sends_as_many_queries_for_a_long_history_as_for_a_short_one(
    client, csr, supervisor
):
    from orderdesk.orders.services import order_note_add

    logged_in(client, csr)
    order = make_order()
    authorize(order, DECLINE_CARD)
    short = order_screen_queries(client, order)
    for index in range(25):
        order_note_add(order=order, actor=(csr, supervisor)[index % 2], text=f"Called, try {index}")
        authorize(order, DECLINE_CARD)
    assert order_screen_queries(client, order) == short <= ORDER_SCREEN_QUERY_CEILING


def test_the_order_screen_reads_the_amount_paid_once(client, csr):
    """The payment state, the re-trigger and the price increase all need the amount paid:
    the captures and recorded payments the screen lists, read once each, serve them all."""
    logged_in(client, csr)
    order = make_order()
    authorize(order, DECLINE_CARD)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("dashboard:order", args=[order.number]))
    assert response.status_code == 200
    assert "Re-trigger" in response.content.decode() or "re-trigger" in response.content.decode()
    sums = [query["sql"] for query in captured if query["sql"].startswith("SELECT SUM(")]
    assert sums == []
    for table in ("payments_capture", "payments_externalpayment"):
        reads = [query["sql"] for query in captured if f'FROM "{table}"' in query["sql"]]
        assert len(reads) == 1, reads


def test_the_order_screen_loads_the_order_once(client, csr):
    logged_in(client, csr)
    order = make_order()
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("dashboard:order", args=[order.number]))
    loads = [
        query["sql"]
        for query in captured
        if query["sql"].startswith('SELECT "orders_order"."id"')
        and '"orders_order"."number" =' in query["sql"]
    ]
    assert len(loads) == 1, loads
