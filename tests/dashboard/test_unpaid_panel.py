"""The unpaid panel: its groups, their order and counts, filters, paging, refresh and export."""

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.urls import reverse

from orderdesk.common.clock import now
from orderdesk.orders.models import Order
from orderdesk.orders.services import order_assign
from orderdesk.payments.sweep import authorizations_expire
from orderdesk.unpaid.export_rows import unpaid_export_rows
from orderdesk.unpaid.figures import unpaid_by_days_to_expiry
from orderdesk.unpaid.groups import GROUPS
from orderdesk.unpaid.rows import unpaid_panel, unpaid_panel_queryset
from orderdesk.workflows.cancellation import order_cancel
from tests.dashboard.scenario import aged_authorization, scenario_build
from tests.factories import DECLINE_CARD, authorize, make_account, make_order

pytestmark = pytest.mark.django_db

URGENCY = [group.key for group in GROUPS]


def shown(panel) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {key: set() for key in URGENCY}
    for order in panel.rows:
        found[order.panel_group.key].add(order.number)
    return found


def test_each_group_holds_exactly_its_orders_and_nothing_secured_or_finished(csr):
    scenario = scenario_build(csr=csr)
    panel = unpaid_panel(user=csr)
    assert shown(panel) == scenario.panel_numbers
    assert panel.counts == {key: len(numbers) for key, numbers in scenario.panel_numbers.items()}
    assert panel.total == 7


def test_rows_come_in_urgency_order_failed_expired_expiring_awaiting_not_authorized(csr):
    scenario_build(csr=csr)
    ranks = [URGENCY.index(order.panel_group.key) for order in unpaid_panel(user=csr).rows]
    assert ranks == sorted(ranks)
    assert ranks[0] == 0 and ranks[-1] == len(URGENCY) - 1


def test_expiring_soon_starts_exactly_at_the_warning_window(csr, settings):
    settings.ORDERDESK_WARNING_DAYS = 5
    inside = make_order()
    aged_authorization(inside, days_ago=29 - 5 + 1 / 86400)  # expires 5 days minus 1 s from now
    outside = make_order()
    aged_authorization(outside, days_ago=29 - 5 - 60 / 86400)  # expires 5 days + 1 min from now
    numbers = {order.number for order in unpaid_panel(user=csr, group="expiring").rows}
    assert numbers == {inside.number}


def test_an_authorization_that_lapses_before_the_delivery_date_is_expiring_soon(csr):
    late = make_order(estimated_delivery_date=now().date() + timedelta(days=40))
    authorize(late)
    early = make_order(estimated_delivery_date=now().date() + timedelta(days=10))
    authorize(early)
    numbers = {order.number for order in unpaid_panel(user=csr).rows}
    assert numbers == {late.number}


def test_an_authorization_past_expiry_counts_as_expired_before_the_sweep_runs(csr):
    order = make_order()
    aged_authorization(order, days_ago=30)  # no sweep: the stored state still says authorized
    order.refresh_from_db()
    assert order.payment_state == "authorized"
    panel = unpaid_panel(user=csr)
    assert [(row.number, row.panel_group.key) for row in panel.rows] == [(order.number, "expired")]


def test_cancelled_and_shipped_orders_never_show(csr, supervisor):
    cancelled = make_order()
    order_cancel(order=cancelled, actor=supervisor)
    assert unpaid_panel(user=csr).total == 0


def test_filters_by_group_kind_assignee_and_search(csr, supervisor):
    scenario = scenario_build(csr=csr)
    sale = make_order(
        kind="sale", account=make_account(name="Salma Sale", ecommerce_email="s@shop.example")
    )
    order_assign(order=scenario.failed, actor=csr, assignee=csr)
    order_assign(order=scenario.expired, actor=csr, assignee=supervisor)

    def numbers(**filters):
        return {order.number for order in unpaid_panel(user=csr, **filters).rows}

    assert numbers(group="not_authorized") == scenario.panel_numbers["not_authorized"] | {
        sale.number
    }
    assert numbers(kind="sale") == {sale.number}
    assert numbers(mine=True) == {scenario.failed.number}
    assert numbers(search="salma") == {sale.number}
    assert numbers(search="S@SHOP") == {sale.number}
    assert numbers(search=scenario.expired.number) == {scenario.expired.number}
    counts = unpaid_panel(user=csr, kind="sale").counts
    assert counts == {
        "failed": 0,
        "expired": 0,
        "expiring": 0,
        "awaiting_customer": 0,
        "not_authorized": 1,
    }


def test_paging_is_server_side_and_stable(csr):
    orders = [make_order() for _ in range(7)]
    first = unpaid_panel(user=csr, per_page=3, page=1, sort="number")
    third = unpaid_panel(user=csr, per_page=3, page=3, sort="number")
    beyond = unpaid_panel(user=csr, per_page=3, page=99, sort="number")
    assert (first.total, first.pages, first.has_next, first.has_previous) == (7, 3, True, False)
    assert [o.number for o in first.rows] == sorted(o.number for o in orders)[:3]
    assert [o.number for o in third.rows] == sorted(o.number for o in orders)[6:]
    assert beyond.page == 3


def test_urgency_pages_interleave_each_groups_ways_in_by_expiry_then_id(csr):
    """A group with two ways in (swept and not yet swept; soon and before delivery; no
    authorization and awaiting a price) is read as one list, page after page."""
    for days_ago in (29.3, 31, 30.5):
        aged_authorization(make_order(), days_ago=days_ago)
    authorizations_expire()
    for days_ago in (30, 29.1, 32):
        aged_authorization(make_order(), days_ago=days_ago)  # lapsed, not swept yet
    for days_ago in (27, 25.5):
        aged_authorization(make_order(), days_ago=days_ago)
    authorize(make_order(estimated_delivery_date=now().date() + timedelta(days=40)))
    for index in range(4):
        make_order(total=0, kind="repair") if index % 2 else make_order()
    everything = [order.number for order in unpaid_panel_queryset(user=csr)]
    paged = [
        order.number
        for page in range(1, 8)
        for order in unpaid_panel(user=csr, per_page=2, page=page).rows
    ]
    assert len(everything) == 13
    assert paged == everything
    expired = unpaid_panel(user=csr, group="expired", per_page=4, page=2).rows
    assert [order.number for order in expired] == everything[4:6]
    by_expiry = [order.number for order in unpaid_panel_queryset(user=csr, sort="expiry")]
    paged = [
        (order.number, order.panel_group.key)
        for page in range(1, 6)
        for order in unpaid_panel(user=csr, per_page=3, page=page, sort="expiry").rows
    ]
    assert [number for number, _ in paged] == by_expiry
    assert {key for _, key in paged} == {"expired", "expiring", "not_authorized"}


def test_days_to_expiry_chart_counts_every_unpaid_order_with_an_authorization(csr):
    scenario_build(csr=csr)
    aged_authorization(make_order(), days_ago=29.5)  # lapsed, not swept yet
    rows = unpaid_panel(user=csr, per_page=100).rows
    with_expiry = [row.payment_expires_at for row in rows if row.payment_expires_at]
    buckets = {bucket.label: bucket.count for bucket in unpaid_by_days_to_expiry()}
    assert sum(buckets.values()) == len(with_expiry) >= 4
    assert buckets["Expired"] == sum(1 for expiry in with_expiry if expiry <= now())
    assert buckets["15+ days"] == 1  # the authorization that lapses before its delivery date


def test_sort_by_total_both_ways(csr):
    small, large = make_order(total=1_000), make_order(total=90_000)
    assert [o.number for o in unpaid_panel(user=csr, sort="total").rows] == [
        small.number,
        large.number,
    ]
    assert [o.number for o in unpaid_panel(user=csr, sort="-total").rows] == [
        large.number,
        small.number,
    ]


@pytest.mark.parametrize("sort", ["total", "-total", "number", "delivery", "-last_action"])
@pytest.mark.parametrize("group", [None, "expired", "expiring"])
def test_every_sort_pages_through_the_same_rows_as_the_full_list(csr, sort, group):
    """Pages of any sort (on SQLite read from the union of the panel's index ranges) are
    the full list's rows, in its order, with their groups."""
    scenario_build(csr=csr)
    for days_ago in (30, 29.1):
        aged_authorization(make_order(), days_ago=days_ago)  # lapsed, not swept yet
    make_order(total=4_000, estimated_delivery_date=now().date() + timedelta(days=3))
    everything = [order.number for order in unpaid_panel_queryset(user=csr, sort=sort, group=group)]
    paged = [
        (order.number, order.panel_group.key)
        for page in range(1, 20)
        for order in unpaid_panel(user=csr, per_page=2, page=page, sort=sort, group=group).rows
    ][: len(everything)]
    assert len(everything) >= (2 if group else 8)
    assert [number for number, _ in paged] == everything
    assert group is None or {key for _, key in paged} == {group}


def test_dashboard_page_shows_groups_counts_and_rows(client, csr):
    scenario = scenario_build(csr=csr)
    client.force_login(csr)
    response = client.get(reverse("dashboard:index"))
    html = response.content.decode()
    assert response.status_code == 200
    for group in GROUPS:
        assert f'data-count="{group.key}">{len(scenario.panel_numbers[group.key])}<' in html
    assert f'href="/orders/{scenario.expired.number}/"' in html
    assert scenario.secured.number not in html
    assert "expired 2 days ago" in html  # authorized 31 days ago, valid for 29
    assert 'hx-trigger="panel-refresh"' in html  # every minute, by dashboard/refresh.js


def test_htmx_refresh_returns_only_the_panel_fragment(client, csr):
    scenario = scenario_build(csr=csr)
    client.force_login(csr)
    response = client.get(reverse("dashboard:index"), {"group": "failed"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="unpaid-panel"')
    assert "<html" not in html and "Work in progress" not in html
    assert scenario.failed.number in html and scenario.expired.number not in html
    assert "HX-Request" in response["Vary"]


def test_invalid_filters_fall_back_to_defaults_instead_of_failing(client, csr):
    make_order()
    client.force_login(csr)
    response = client.get(reverse("dashboard:index"), {"q": "a\x00b", "page": "x", "sort": "drop"})
    assert response.status_code == 200


def test_csv_export_has_every_row_the_filters_show(client, csr):
    scenario = scenario_build(csr=csr)
    evil = make_order(account=make_account(name="=HYPERLINK(1)"))
    client.force_login(csr)
    response = client.get(reverse("dashboard:unpaid-csv"), {"group": "not_authorized"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Order", "Group", "Account"]
    body = {row[0]: row for row in rows[1:]}
    assert set(body) == scenario.panel_numbers["not_authorized"] | {evil.number}
    assert body[evil.number][2] == "'=HYPERLINK(1)"
    assert body[scenario.unauthorized.number][5] == "USD 125.00"


def test_csv_export_names_the_assignee_and_leaves_nobody_empty(client, csr):
    assigned, unassigned = make_order(), make_order()
    order_assign(order=assigned, actor=csr, assignee=csr)
    client.force_login(csr)
    response = client.get(reverse("dashboard:unpaid-csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    column = rows[0].index("Assigned to")
    body = {row[0]: row[column] for row in rows[1:]}
    assert body[assigned.number] == (csr.get_full_name() or csr.get_username())
    assert body[unassigned.number] == ""


def test_export_rows_hold_the_instants_the_orm_reads(csr):
    """The export parses the driver's timestamps itself (psycopg's compiled loader on
    PostgreSQL, naive UTC on SQLite): the same instants as the ORM's."""
    scenario_build(csr=csr)
    fields = ("number", "payment_expires_at", "last_action_at")
    exported = {
        number: tuple(
            value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
            for value in values
        )
        for number, *values in unpaid_export_rows(user=csr, fields=fields)
    }
    expected = dict(
        (number, (expires, acted))
        for number, expires, acted in Order.objects.filter(number__in=exported).values_list(*fields)
    )
    assert exported == expected
    assert any(expires is not None for expires, _ in exported.values())


def test_figures_beside_the_panel_are_counted_once_a_minute_and_say_when(client, csr):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(csr)
    make_order()
    with CaptureQueriesContext(connection) as first:
        page = client.get(reverse("dashboard:index")).content.decode()
    assert "As of <time" in page
    with CaptureQueriesContext(connection) as second:
        client.get(reverse("dashboard:index"))

    def figures(context) -> list[str]:
        # The work in progress groups live orders by status; the chart counts bucket "b0".
        return [
            query["sql"]
            for query in context.captured_queries
            if 'COUNT("orders_order"."id") AS "count"' in query["sql"] or '"b0"' in query["sql"]
        ]

    assert len(figures(first)) == 2
    assert figures(second) == []  # neither the work in progress nor the chart again


def test_a_refresh_of_an_unchanged_panel_swaps_nothing(client, csr):
    client.force_login(csr)
    order = make_order()
    authorize(order, DECLINE_CARD)
    refresh = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TRIGGER": "unpaid-panel"}
    first = client.get(reverse("dashboard:index"), **refresh)
    version = first["X-Panel-Version"]
    assert first.status_code == 200
    assert f'data-version="{version}"' in first.content.decode()
    unchanged = client.get(reverse("dashboard:index"), HTTP_X_PANEL_VERSION=version, **refresh)
    assert unchanged.status_code == 204
    assert unchanged.content == b""
    authorize(make_order(), DECLINE_CARD)
    changed = client.get(reverse("dashboard:index"), HTTP_X_PANEL_VERSION=version, **refresh)
    assert changed.status_code == 200
    assert changed["X-Panel-Version"] != version


def test_the_panel_refresh_announces_politely_and_yields_to_a_search(client, csr):
    client.force_login(csr)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert (
        'id="unpaid-panel-status" class="visually-hidden" role="status" aria-live="polite"' in page
    )
    assert 'hx-trigger="panel-refresh"' in page
    assert 'hx-sync="closest section:drop"' in page  # a refresh never overtakes a search
    assert 'hx-sync="closest section:replace"' in page
    assert "every 60s" not in page  # the static script decides when (visible, not typing)
    assert "dashboard/refresh.js" in page
