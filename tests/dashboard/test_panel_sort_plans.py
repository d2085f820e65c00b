"""Sorted pages of the panel read the authorized orders' expiry ranges from the panel's
expiry index on SQLite, with the statistics of a large database.

Without range statistics, SQLite's planner took the lapsed range (open at one end) for a
quarter of the authorized orders and walked every authorized order in the sort key's index
to avoid sorting them: 0.2 to 0.4 s a page at 1,000,000 orders.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderdesk.unpaid.rows import SORTS, unpaid_panel
from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner and statistics"),
]

# sqlite_stat1 of the benchmark's orders at 1,000,000 orders (5 % unpaid) after ANALYZE:
# rows in the index, then rows per value of its first and second columns.
MILLION_ORDER_STATISTICS = {
    None: [1_000_000],
    "order_payment_panel": [400_000, 66_667, 796],
    "order_delivery_risk": [50_000, 8_334, 794],
    "order_panel_by_total": [400_000, 66_667, 17],
    "order_panel_by_number": [400_000, 66_667, 1],
    "order_panel_by_delivery": [400_000, 66_667, 57_143],
    "order_panel_by_last_action": [400_000, 66_667, 100],
    "order_panel_by_account": [400_000, 100, 80],
}


@pytest.mark.parametrize("sort", [key for key in SORTS if key != "urgency"])
def test_a_sorted_page_walks_a_sort_keys_index_only_for_a_payment_states_range(csr, sort):
    for index in range(6):
        order = make_order()
        if index % 2:
            authorize(order, DECLINE_CARD)
    _statistics_of_a_million_orders()
    with CaptureQueriesContext(connection) as captured:
        unpaid_panel(user=csr, sort=sort)
    steps = [step for query in captured.captured_queries for step in _plan(query["sql"])]
    # A sort key's index is read covering (a payment state's first rows), never as the way
    # to find an expiry range's rows.
    assert [step for step in steps if "USING INDEX order_panel_by_" in step] == []
    assert any("order_payment_panel" in step for step in steps)


def _statistics_of_a_million_orders() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders_order'"
        )
        for (index,) in cursor.fetchall():
            cursor.execute(f"PRAGMA index_info('{index}')")
            columns = len(cursor.fetchall())
            stat = MILLION_ORDER_STATISTICS.get(index, [1_000_000, 1_000_000 // 100])
            stat = (stat + [1] * columns)[: columns + 1]
            cursor.execute(
                "DELETE FROM sqlite_stat1 WHERE tbl = 'orders_order' AND idx = %s", [index]
            )
            cursor.execute(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('orders_order', %s, %s)",
                [index, " ".join(map(str, stat))],
            )
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'orders_order' AND idx IS NULL")
        cursor.execute("INSERT INTO sqlite_stat1 VALUES ('orders_order', NULL, '1000000')")
        cursor.execute("ANALYZE sqlite_schema")  # the planner reads the statistics again


def _plan(sql: str) -> list[str]:
    if not sql.startswith("SELECT"):
        return []
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return [row[-1] for row in cursor.fetchall()]
