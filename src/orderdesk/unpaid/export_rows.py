"""The panel's rows for the CSV export: every row under the filters, in the panel's order,
streamed as the database driver returns them."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime

from django.db import connection
from django.db.models import IntegerField, QuerySet, Value

from orderdesk.common.clock import now
from orderdesk.common.sql import compiled_timestamp_loader
from orderdesk.unpaid.groups import GROUPS, GROUPS_BY_KEY, group_ranges, live_orders, narrow
from orderdesk.unpaid.rows import DEFAULT_SORT, SORTS, unpaid_panel_queryset
from orderdesk.unpaid.search import search_for


def unpaid_export_rows(
    *,
    user,
    fields: tuple[str, ...],
    group: str | None = None,
    kind: str | None = None,
    mine: bool = False,
    search: str = "",
    sort: str = DEFAULT_SORT,
    moment: datetime | None = None,
) -> Iterator[tuple]:
    """Every row of the panel under these filters as tuples of `fields` (any of the order's
    values, "urgency" among them), in the panel's order, streamed.

    The tuples are the database driver's rows, without Django's per-value converters (they
    were a third of the export's time): timestamps are aware on PostgreSQL and naive UTC on
    SQLite, which the caller makes aware.

    In urgency order each group's ranges are read one after the other, each a walk of its
    index by expiry and id, and merged: no query sorts every unpaid order.
    """
    moment = moment or now()
    sort = sort if sort in SORTS else DEFAULT_SORT
    if sort != DEFAULT_SORT:
        queryset = unpaid_panel_queryset(
            user=user, group=group, kind=kind, mine=mine, search=search, sort=sort, moment=moment
        )
        yield from _driver_rows(queryset.values_list(*fields))
        return
    search = search_for(search, moment)
    live = narrow(live_orders(), user=user, kind=kind, mine=mine, search=search)
    ranges = group_ranges(moment)
    for rank, entry in enumerate(GROUPS):
        if group in GROUPS_BY_KEY and entry.key != group:
            continue
        yield from _group_rows(live, ranges[entry.key], rank=rank, fields=fields)


def _group_rows(live, parts, *, rank: int, fields: tuple[str, ...]) -> Iterator[tuple]:
    """One group's rows: its ranges, each an index walk by expiry and id, merged (a group
    of one range is that range's rows, with no merge key to add and strip per row)."""
    ranges = [
        live.filter(part)
        .annotate(urgency=Value(rank, output_field=IntegerField()))
        .order_by(*SORTS[DEFAULT_SORT][1:])
        for part in parts
    ]
    if len(ranges) == 1:
        yield from _driver_rows(ranges[0].values_list(*fields))
        return
    streams = [
        _driver_rows(rows.values_list(*fields, "payment_expires_at", "pk")) for rows in ranges
    ]
    for row in heapq.merge(*streams, key=_expiry_then_id):
        yield row[:-2]


def _expiry_then_id(row: tuple) -> tuple:
    expires, pk = row[-2], row[-1]
    return (True, 0, pk) if expires is None else (False, expires, pk)


EXPORT_CHUNK_ROWS = 2000


def _driver_rows(queryset: QuerySet) -> Iterator[tuple]:
    """The query's rows as the driver returns them, on a server-side cursor on PostgreSQL
    (as QuerySet.iterator), fetched in chunks."""
    sql, params = queryset.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        if connection.vendor == "postgresql":
            compiled_timestamp_loader(cursor.cursor)
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(EXPORT_CHUNK_ROWS):
            yield from chunk
