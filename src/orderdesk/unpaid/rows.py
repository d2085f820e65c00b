"""The panel's rows: one page under the filters, in the order asked for.

The default (urgency) page is fetched group by group, each an index-ordered query of the
groups the page spans, so no query sorts every unpaid order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Case, F, OrderBy, Q, QuerySet

from orderdesk.common.clock import now
from orderdesk.orders.models import Order
from orderdesk.unpaid.counts import unpaid_counts
from orderdesk.unpaid.groups import (
    GROUPS,
    GROUPS_BY_KEY,
    PanelGroup,
    group_conditions,
    group_ranges,
    live_orders,
    narrow,
    unpaid_condition,
    urgency_rank,
)
from orderdesk.unpaid.search import Search, few_page, search_for

# Sort keys offered to staff; each ends with a unique column so paging is stable.
SORTS = {
    "urgency": ("urgency", F("payment_expires_at").asc(nulls_last=True), "id"),
    "expiry": (F("payment_expires_at").asc(nulls_last=True), "id"),
    "-expiry": (F("payment_expires_at").desc(nulls_last=True), "-id"),
    "total": ("total", "id"),
    "-total": ("-total", "-id"),
    "number": ("number",),
    "-number": ("-number",),
    "delivery": (F("estimated_delivery_date").asc(nulls_last=True), "id"),
    "-delivery": (F("estimated_delivery_date").desc(nulls_last=True), "-id"),
    "last_action": (F("last_action_at").desc(nulls_last=True), "-id"),
    "-last_action": (F("last_action_at").asc(nulls_last=True), "id"),
}


DEFAULT_SORT = "urgency"


@dataclass
class UnpaidPanel:
    rows: list[Order]
    counts: dict[str, int]
    total: int
    page: int
    per_page: int
    pages: int
    sort: str
    group: str | None = None
    moment: datetime | None = None
    groups: tuple[PanelGroup, ...] = field(default=GROUPS)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)

    @property
    def group_counts(self) -> list[tuple[PanelGroup, int]]:
        return [(group, self.counts.get(group.key, 0)) for group in self.groups]

    @property
    def all_count(self) -> int:
        return sum(self.counts.values())


def _panel_base(moment: datetime) -> tuple[QuerySet, dict[str, Q]]:
    return Order.objects.filter(unpaid_condition(moment)), group_conditions(moment)


def unpaid_panel_queryset(
    *,
    user,
    group: str | None = None,
    kind: str | None = None,
    mine: bool = False,
    search: str | Search | None = "",
    sort: str = DEFAULT_SORT,
    moment: datetime | None = None,
) -> QuerySet:
    """Every row the panel would show under these filters, in order (also for CSV export)."""
    moment = moment or now()
    queryset, conditions = _panel_base(moment)
    search = search_for(search, moment)
    queryset = narrow(queryset, user=user, kind=kind, mine=mine, search=search)
    if group in conditions:
        queryset = queryset.filter(conditions[group])
    return (
        queryset.annotate(urgency=urgency_rank(conditions))
        .select_related("account", "assigned_to")
        .order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))
    )


def _page_rows(counts: dict[str, int], sort: str, window: dict, size: int) -> list[Order]:
    """The page's rows in `sort` order: in urgency order group by group; in any other order
    the first rows of each of the panel's index ranges in that order, merged (see
    `_group_slice`)."""
    if window["search"] is not None and window["search"].few:
        start, stop = window.pop("start"), window.pop("stop")
        ordered = unpaid_panel_queryset(**window, sort=sort)
        return few_page(ordered, SORTS[sort], window["moment"], start, stop)
    if sort == DEFAULT_SORT:
        return _urgency_page(counts, **window)
    ordering = None if sort == "expiry" else SORTS[sort]  # None: the index ranges' own order
    return _sorted_page(**window, ordering=ordering, size=size)


def unpaid_panel(
    *,
    user,
    group: str | None = None,
    kind: str | None = None,
    mine: bool = False,
    search: str = "",
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int = 50,
) -> UnpaidPanel:
    """The unpaid panel: one page of rows, the counts per group, and paging.

    One query for the counts; the default (urgency) sort then reads only the groups the page
    spans, one index-ordered query each (one, at most two for a page within the groups'
    sizes, never more than the five groups); any other sort is one query: by expiry one
    merging the index-ordered ranges of the groups, on SQLite any sort one over the union of
    those ranges.
    """
    moment = now()
    group = group if group in GROUPS_BY_KEY else None
    sort = sort if sort in SORTS else DEFAULT_SORT
    search = search_for(search, moment)
    counts = unpaid_counts(user=user, kind=kind, mine=mine, search=search, moment=moment)
    total = counts[group] if group else sum(counts.values())
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    filters = {"user": user, "group": group, "kind": kind, "mine": mine, "search": search}
    window = {**filters, "moment": moment, "start": start, "stop": start + per_page}
    rows = _page_rows(counts, sort, window, total) if total else []
    for row in rows:
        row.panel_group = GROUPS[row.urgency]
    return UnpaidPanel(rows, counts, total, page, per_page, pages, sort, group=group, moment=moment)


def _urgency_page(
    counts: dict[str, int], *, user, group, kind, mine, search, moment, start: int, stop: int
) -> list[Order]:
    """Rows start..stop of the urgency order: the groups in rank order, each by expiry and id.

    With the counts known, only the groups the page overlaps are read, one query each, so no
    query sorts the whole panel.
    """
    ranges = group_ranges(moment)
    live = narrow(live_orders(), user=user, kind=kind, mine=mine, search=search)
    rows: list[Order] = []
    offset = 0
    for rank, entry in enumerate(GROUPS):
        if group and entry.key != group:
            continue
        size = counts.get(entry.key, 0)
        low, high = max(start, offset) - offset, min(stop, offset + size) - offset
        offset += size
        if low >= high:
            continue
        for row in _group_slice(live, ranges[entry.key], low=low, high=high, size=size):
            row.urgency = rank
            rows.append(row)
        if offset >= stop:
            break
    return rows


def _sorted_page(
    *, user, group, kind, mine, search, moment, ordering, start: int, stop: int, size: int
) -> list[Order]:
    """Rows start..stop of the groups shown in `ordering` (None: by expiry and id)."""
    ranges = group_ranges(moment)
    live = narrow(live_orders(), user=user, kind=kind, mine=mine, search=search)
    shown = [part for key in ([group] if group else ranges) for part in ranges[key]]
    urgency = urgency_rank(group_conditions(moment))
    return _group_slice(
        live, shown, low=start, high=stop, size=size, urgency=urgency, ordering=ordering
    )


def _group_slice(
    live: QuerySet,
    ranges: list[Q],
    *,
    low: int,
    high: int,
    size: int,
    urgency: Case | None = None,
    ordering: tuple | None = None,
) -> list[Order]:
    """Rows low..high of `size` rows of one group (or of several ranges) by expiry and id (or
    `ordering`).

    A group of one range is one index walk. Several ranges give the first `high` rows of each
    in `ordering` (each an index walk: the panel's indexes hold every sort key after the
    payment state; an expiry range in another order is read whole, from order_payment_panel,
    which holds the keys too), of which only those are sorted, and only the page's rows are
    joined; every walk is wrapped in `id IN (…)` because SQLite refuses LIMIT inside UNION
    ALL. A page past the middle is read from the other end in the reverse order, so the last
    page costs what the first does.
    """
    in_index_order = ordering is None
    ordering = SORTS[DEFAULT_SORT][1:] if in_index_order else ordering
    high = min(high, size)
    backwards = low + high > size
    if backwards:
        low, high, ordering = size - high, size - low, _reversed(ordering)
    walks = [walk for part in ranges for walk in _walks(part, ordering, in_index_order)]
    if len(walks) == 1:
        queryset = live.filter(ranges[0])
    else:
        queryset, low, high = (
            live.filter(pk__in=_page(live, walks, ordering, low, high)),
            None,
            None,
        )
    if urgency is not None:
        queryset = queryset.annotate(urgency=urgency)
    rows = list(queryset.select_related("account", "assigned_to").order_by(*ordering)[low:high])
    return rows[::-1] if backwards else rows


def _walks(part: Q, ordering: tuple, in_index_order: bool) -> list[tuple[Q, tuple | None]]:
    """One range as index walks, each with the order that walks it (None: no order, every
    row of the range).

    A range of one payment state is walked in any sort key's order (order_panel_by_*). A
    range of expiry dates (authorized orders expiring soon, lapsed or before delivery) is
    walked only by expiry, either way: in another order every id of it is read, with its
    sort key, from the index, because walking all authorized orders by the sort key to find
    the few in the range (SQLite's choice) read every authorized order. A nullable sort
    key's rows with a value are walked in the plain direction of the index (an index gives
    NULLs first on SQLite, last on PostgreSQL, so neither walks NULLS LAST both ways), its
    NULLs apart unless the range bounds the key.
    """
    first = ordering[0]
    by_expiry = isinstance(first, OrderBy) and first.expression.name == "payment_expires_at"
    if not (in_index_order or by_expiry or _one_state(part)):
        return [(part, None)]
    if not isinstance(first, OrderBy) or not (first.nulls_first or first.nulls_last):
        return [(part, ordering)]
    column = first.expression.name
    plain = OrderBy(first.expression, descending=first.descending)
    with_value = (part & Q(**{f"{column}__isnull": False}), (plain, *ordering[1:]))
    if _bounded(part, column):  # a range of the key's values holds no NULL
        return [with_value]
    # The NULLs by id, written as by the key and then id in one direction, so that
    # PostgreSQL walks the index (an IS NULL condition does not give it the key's order).
    tie = ordering[-1]
    nulls = (OrderBy(first.expression, descending=tie.startswith("-")), *ordering[1:])
    return [with_value, (part & Q(**{f"{column}__isnull": True}), nulls)]


def _bounded(part: Q, column: str) -> bool:
    """Whether `part` requires a value of `column` (compares it at its top level)."""
    return not part.negated and any(
        isinstance(child, tuple) and child[0].startswith(f"{column}__") for child in part.children
    )


def _one_state(part: Q) -> bool:
    return not part.negated and len(part.children) == 1 and part.children[0][0] == "payment_state"


def _firsts(queryset: QuerySet, order: tuple | None, high: int, columns: list[str]) -> QuerySet:
    """The `columns` of the first `high` rows in `order` (or of every row), for a UNION ALL."""
    if order is not None:
        queryset = Order.objects.filter(pk__in=queryset.order_by(*order).values("pk")[:high])
    return queryset.order_by().values(*columns)


def _sort_columns(ordering: tuple) -> list[str]:
    """The columns of `ordering`, in order, ending in id."""
    columns = [
        term.lstrip("-") if isinstance(term, str) else term.expression.name for term in ordering
    ]
    return [column for column in columns if column != "id"] + ["id"]


def _reversed(ordering: tuple) -> tuple:
    """The same sort keys in the other direction (NULLs at the other end too)."""
    return tuple(
        (term[1:] if term.startswith("-") else f"-{term}")
        if isinstance(term, str)
        else term.copy().reverse_ordering()
        for term in ordering
    )


def _page(live: QuerySet, walks: list, ordering: tuple, low: int, high: int) -> QuerySet | list:
    """The ids of the page low..high among the first `high` rows of each walk.

    Walks of at most `high` rows each: one subquery, sorted by the orders' own keys. With a
    range read whole (thousands of authorized orders expiring soon, in another order than
    expiry), reading each of its orders' rows for its key cost more than the rest of the page
    (22 ms of 28 at 1,000,000 orders on PostgreSQL), so the walks carry their sort keys from
    the index and the page's ids are found first, in a query of their own.
    """
    whole = any(order is None for _, order in walks)
    columns = _sort_columns(ordering) if whole else ["pk"]
    firsts = [_firsts(live.filter(part), order, high, columns) for part, order in walks]
    union = firsts[0].union(*firsts[1:], all=True)
    if whole:
        return [row["id"] for row in union.order_by(*ordering)[low:high]]
    return Order.objects.filter(pk__in=union).order_by(*ordering).values("pk")[low:high]
