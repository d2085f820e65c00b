"""The order screen's queries read by index on SQLite, even while no order is replaced.

While every supersedes_id is NULL, SQLite's statistics record the one-to-one's own index as
matching every row; a join to an order's replacement through it scanned the orders table.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import DECLINE_CARD, authorize, make_order

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner and its statistics")
def test_no_order_screen_query_scans_the_orders_table_after_analyze(client, csr):
    orders = [make_order() for _ in range(30)]
    authorize(orders[0], DECLINE_CARD)
    _analyze_as_at_a_million_orders()
    client.force_login(csr)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("dashboard:order", args=[orders[0].number]))
    assert response.status_code == 200
    orders_table = {"orders_order"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {name for (name,) in cursor.fetchall()}
    scans = []
    for query in captured.captured_queries:
        if not query["sql"].startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
            steps = [row[-1] for row in cursor.fetchall()]
        aliases = _aliases_of(query["sql"], orders_table)
        scans += [
            (step, query["sql"][:120])
            for step in steps
            if step.startswith("SCAN ") and step.split()[1] in aliases
        ]
    assert tables >= orders_table
    assert scans == []


def _analyze_as_at_a_million_orders() -> None:
    """ANALYZE, then the orders table's statistics scaled to a million rows, as a large
    database's would read: each index's rows per value kept, its row count a million."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'orders_order'")
        for index, stat in cursor.fetchall():
            total, *per_value = (int(number) for number in stat.split())
            scaled = [1_000_000] + [max(1, value * 1_000_000 // total) for value in per_value]
            cursor.execute(
                "UPDATE sqlite_stat1 SET stat = %s WHERE tbl = 'orders_order' AND idx IS %s",
                [" ".join(map(str, scaled)), index],
            )
        cursor.execute("ANALYZE sqlite_schema")  # the planner reads the statistics again


def _aliases_of(sql: str, tables: set[str]) -> set[str]:
    """The table names and the aliases Django gave them (`"orders_order" T5`)."""
    names = set(tables)
    words = sql.replace('"', "").split()
    for index, word in enumerate(words[:-1]):
        if word in tables and words[index + 1][:1] == "T" and words[index + 1][1:].isdigit():
            names.add(words[index + 1])
    return names
