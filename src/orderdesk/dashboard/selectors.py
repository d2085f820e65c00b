"""Read-side queries of the CSR dashboard.

The unpaid panel reads live orders filtered on the denormalized payment state and expiry,
which the partial indexes `order_payment_panel` (payment_state, payment_expires_at, id,
then status, kind and assignee, WHERE live) and `order_delivery_risk` (the same with the
delivery date, WHERE live and dated) serve. Its counts are one aggregate read from those indexes alone (a UNION ALL of
a GROUP BY payment_state and the authorized arms); its default (urgency) page is fetched
group by group, each an index-ordered query of the groups the page spans, so no query sorts
every unpaid order. The live condition is written in literals (see `orderdesk.common.sql`)."""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual

from orderdesk.common.clock import now
from orderdesk.common.sql import status_in
from orderdesk.orders.models import (
    FINISHED_STATUSES,
    UNPAID_STATES,
    Order,
    OrderStatus,
    PaymentState,
)


@dataclass(frozen=True)
class PanelGroup:
    key: str
    label: str
    description: str


# In urgency order: the position is the urgency rank the panel sorts by.
GROUPS = (
    PanelGroup("failed", "Payment failed", "needs manual processing"),
    PanelGroup("expired", "Authorization expired", "re-authorize before shipping"),
    PanelGroup("expiring", "Expiring soon", "within the warning window or before delivery"),
    PanelGroup("awaiting_customer", "Awaiting customer", "a payment link is open"),
    PanelGroup("not_authorized", "Not authorized", "no authorization, or awaiting a price"),
)
GROUPS_BY_KEY = {group.key: group for group in GROUPS}

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
LIVE_STATUSES = (OrderStatus.OPEN, OrderStatus.IN_PROGRESS, OrderStatus.READY_TO_SHIP)
NOT_AUTHORIZED_STATES = (PaymentState.UNAUTHORIZED, PaymentState.AWAITING_PRICE)


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


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.ORDERDESK_TIME_ZONE)


def _live() -> Q:
    """Not shipped nor cancelled, in the terms of the panel's partial indexes' condition."""
    return ~status_in(FINISHED_STATUSES)


def _live_orders() -> QuerySet:
    return Order.objects.filter(_live())


class _DateAtUTC(Func):
    """A date column plus a whole number of hours, as a UTC datetime, in plain SQL arithmetic.

    No per-row time-zone conversion (on SQLite, TruncDate with a zone is a Python function).
    """

    output_field = DateTimeField()

    def __init__(self, expression, *, hours: int):
        super().__init__(expression)
        self.hours = int(hours)

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"datetime({sql}, '{self.hours:+d} hours')", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql} + interval '{self.hours} hours') AT TIME ZONE 'UTC')", params


# In any time zone (UTC-12 to UTC+14) the day after D starts between D 10:00 UTC and D+1
# 12:00 UTC: an expiry before the first is on or before D in the business zone, one at or
# after the second is later. Only the expiries in between need the exact, per-row test.
_DAY_AFTER_EARLIEST_UTC_HOURS = 24 - 14
_DAY_AFTER_LATEST_UTC_HOURS = 24 + 12


def _expires_by_delivery_day() -> Q:
    """payment_expires_at falls on or before estimated_delivery_date in the business zone."""
    delivery = F("estimated_delivery_date")
    exact = LessThanOrEqual(TruncDate("payment_expires_at", tzinfo=business_zone()), delivery)
    return Q(payment_expires_at__lt=_DateAtUTC(delivery, hours=_DAY_AFTER_EARLIEST_UTC_HOURS)) | (
        Q(payment_expires_at__lt=_DateAtUTC(delivery, hours=_DAY_AFTER_LATEST_UTC_HOURS)) & Q(exact)
    )


def _arms(moment: datetime) -> dict[str, Q]:
    """The panel's filter as three arms, each served by a partial index of live orders.

    `state`: an unpaid payment state (order_payment_panel); `soon`: authorized and expiring
    within the warning window, or lapsed before the sweep ran (order_payment_panel, a range);
    `delivery`: authorized and expiring on or before the delivery day (order_delivery_risk).
    """
    authorized = Q(payment_state=PaymentState.AUTHORIZED)
    return {
        "state": Q(payment_state__in=UNPAID_STATES),
        "soon": authorized
        & Q(payment_expires_at__lt=moment + timedelta(days=settings.ORDERDESK_WARNING_DAYS)),
        # Expiring on or before the delivery day: the authorization will not be there to capture.
        # Written in the terms of the partial index order_delivery_risk's condition.
        "delivery": authorized
        & Q(estimated_delivery_date__isnull=False)
        & _expires_by_delivery_day(),
    }


def _group_ranges(moment: datetime) -> dict[str, list[Q]]:
    """Each group as disjoint ranges, each one walk of a partial index in expiry and id order.

    `order_payment_panel` serves a payment state (and an expiry range); the authorized orders
    beyond the warning window that expire by their delivery day are a range of
    `order_delivery_risk`. Together they are exactly the groups of the panel.
    """
    arms = _arms(moment)
    window_end = moment + timedelta(days=settings.ORDERDESK_WARNING_DAYS)
    authorized = Q(payment_state=PaymentState.AUTHORIZED)
    return {
        "failed": [Q(payment_state=PaymentState.FAILED)],
        # An authorized order past its expiry that the sweep has not reached yet is expired.
        "expired": [
            Q(payment_state=PaymentState.EXPIRED),
            authorized & Q(payment_expires_at__lte=moment),
        ],
        # Valid, and expiring within the warning window or by the delivery day.
        "expiring": [
            authorized & Q(payment_expires_at__gt=moment, payment_expires_at__lt=window_end),
            arms["delivery"] & Q(payment_expires_at__gte=window_end),
        ],
        "awaiting_customer": [Q(payment_state=PaymentState.AWAITING_CUSTOMER)],
        "not_authorized": [Q(payment_state=state) for state in NOT_AUTHORIZED_STATES],
    }


def _group_conditions(moment: datetime) -> dict[str, Q]:
    """Each group as one condition; the groups do not overlap."""
    return {
        key: functools.reduce(operator.or_, ranges) for key, ranges in _group_ranges(moment).items()
    }


def unpaid_condition(moment: datetime) -> Q:
    """On the unpaid panel: live, and in one of its groups (the API's unpaid filter too)."""
    arms = _arms(moment)
    return _live() & (arms["state"] | arms["soon"] | arms["delivery"])


def _panel_base(moment: datetime) -> tuple[QuerySet, dict[str, Q]]:
    return Order.objects.filter(unpaid_condition(moment)), _group_conditions(moment)


def _urgency(conditions: dict[str, Q]) -> Case:
    return Case(
        *(
            When(conditions[group.key], then=Value(rank))
            for rank, group in enumerate(GROUPS)
            if group.key != "not_authorized"
        ),
        default=Value(len(GROUPS) - 1),
        output_field=IntegerField(),
    )


def _narrow(queryset: QuerySet, *, user, kind: str | None, mine: bool, search: str) -> QuerySet:
    if kind:
        queryset = queryset.filter(kind=kind)
    if mine:
        queryset = queryset.filter(assigned_to=user)
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(number__istartswith=search)
            | Q(account__name__icontains=search)
            | Q(account__ecommerce_email__icontains=search)
        )
    return queryset


def unpaid_panel_queryset(
    *,
    user,
    group: str | None = None,
    kind: str | None = None,
    mine: bool = False,
    search: str = "",
    sort: str = DEFAULT_SORT,
    moment: datetime | None = None,
) -> QuerySet:
    """Every row the panel would show under these filters, in order (also for CSV export)."""
    moment = moment or now()
    queryset, conditions = _panel_base(moment)
    queryset = _narrow(queryset, user=user, kind=kind, mine=mine, search=search)
    if group in conditions:
        queryset = queryset.filter(conditions[group])
    return (
        queryset.annotate(urgency=_urgency(conditions))
        .select_related("account", "assigned_to")
        .order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))
    )


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
    counts = unpaid_counts(user=user, kind=kind, mine=mine, search=search, moment=moment)
    total = counts[group] if group else sum(counts.values())
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    window = {
        "user": user,
        "group": group,
        "kind": kind,
        "mine": mine,
        "search": search,
        "moment": moment,
        "start": start,
        "stop": start + per_page,
    }
    if not total:
        rows = []
    elif sort == DEFAULT_SORT:
        rows = _urgency_page(counts, **window)
    elif sort == "expiry":
        rows = _sorted_page(**window, ordering=None)  # the index ranges merged
    elif connection.vendor == "sqlite":
        # SQLite does not OR the panel's index ranges together: it read every order through
        # its account (0.6 s at 1,000,000 orders). The union of the ranges, each read from
        # its index alone, is four times faster there; PostgreSQL's one bitmap OR of the same
        # ranges is faster than the union, so it keeps the plain query below.
        rows = _sorted_page(**window, ordering=SORTS[sort])
    else:
        queryset = unpaid_panel_queryset(
            user=user, group=group, kind=kind, mine=mine, search=search, sort=sort, moment=moment
        )
        rows = list(queryset[start : start + per_page])
    for row in rows:
        row.panel_group = GROUPS[row.urgency]
    return UnpaidPanel(
        rows=rows,
        counts=counts,
        total=total,
        page=page,
        per_page=per_page,
        pages=pages,
        sort=sort,
        group=group,
        moment=moment,
    )


def _urgency_page(
    counts: dict[str, int], *, user, group, kind, mine, search, moment, start: int, stop: int
) -> list[Order]:
    """Rows start..stop of the urgency order: the groups in rank order, each by expiry and id.

    With the counts known, only the groups the page overlaps are read, one query each, so no
    query sorts the whole panel.
    """
    ranges = _group_ranges(moment)
    live = _narrow(_live_orders(), user=user, kind=kind, mine=mine, search=search)
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
        for row in _group_slice(live, ranges[entry.key], low=low, high=high):
            row.urgency = rank
            rows.append(row)
        if offset >= stop:
            break
    return rows


def _sorted_page(
    *, user, group, kind, mine, search, moment, ordering, start: int, stop: int
) -> list[Order]:
    """Rows start..stop of the groups shown in `ordering` (None: by expiry and id)."""
    ranges = _group_ranges(moment)
    live = _narrow(_live_orders(), user=user, kind=kind, mine=mine, search=search)
    shown = [part for key in ([group] if group else ranges) for part in ranges[key]]
    urgency = _urgency(_group_conditions(moment))
    return _group_slice(live, shown, low=start, high=stop, urgency=urgency, ordering=ordering)


def _group_slice(
    live: QuerySet,
    ranges: list[Q],
    *,
    low: int,
    high: int,
    urgency: Case | None = None,
    ordering: tuple | None = None,
) -> list[Order]:
    """Rows low..high of one group (or of several ranges) by expiry and id (or `ordering`),
    in one query.

    A group of one range is one index walk. Several ranges give the first `high` ids of each
    (each an index walk, from the index alone), of which only those are sorted, and only the
    page's rows are joined; every range is wrapped in `id IN (…)` because SQLite refuses
    LIMIT inside UNION ALL. In another order than the indexes' every id of each range is a
    candidate.
    """
    in_index_order = ordering is None
    ordering = SORTS[DEFAULT_SORT][1:] if in_index_order else ordering
    if len(ranges) == 1:
        queryset = live.filter(ranges[0])
    elif in_index_order:
        firsts = [
            Order.objects.filter(pk__in=live.filter(part).order_by(*ordering).values("pk")[:high])
            .order_by()
            .values("pk")
            for part in ranges
        ]
        queryset, low, high = _page_of(firsts, ordering, low, high), None, None
    else:
        every = [live.filter(part).order_by().values("pk") for part in ranges]
        queryset, low, high = _page_of(every, ordering, low, high), None, None
    if urgency is not None:
        queryset = queryset.annotate(urgency=urgency)
    return list(queryset.select_related("account", "assigned_to").order_by(*ordering)[low:high])


def _page_of(candidates: list[QuerySet], ordering, low: int, high: int) -> QuerySet:
    """The orders of the page low..high among the candidates' ids: the ids first, so only the
    page's rows are joined to their account and assignee."""
    union = Order.objects.filter(pk__in=candidates[0].union(*candidates[1:], all=True))
    page = union.order_by(*ordering).values("pk")[low:high]
    return Order.objects.filter(pk__in=page)


def unpaid_counts(
    *, user, kind: str | None = None, mine: bool = False, search: str = "", moment=None
) -> dict[str, int]:
    """How many orders each group holds under the filters other than the group: one query.

    A UNION ALL of three index-only aggregates over live orders: the unpaid states grouped
    by payment state (order_payment_panel), the authorized orders lapsed or expiring within
    the warning window (the same index, a range), and the authorized orders beyond the
    window that expire by their delivery day (order_delivery_risk).
    """
    moment = moment or now()
    arms = _arms(moment)
    live = _narrow(
        _live_orders(),
        user=user,
        kind=kind,
        mine=mine,
        search=search,
    ).order_by()
    window_end = moment + timedelta(days=settings.ORDERDESK_WARNING_DAYS)
    by_state = (
        live.filter(arms["state"])
        .annotate(key=F("payment_state"))
        .values("key")
        .annotate(n=Count("pk"))
    )
    soon = (
        live.filter(arms["soon"])
        .annotate(
            key=Case(
                When(payment_expires_at__lte=moment, then=Value("authorized:lapsed")),
                default=Value("authorized:soon"),
                output_field=CharField(),
            )
        )
        .values("key")
        .annotate(n=Count("pk"))
    )
    delivery = (
        live.filter(arms["delivery"], payment_expires_at__gte=window_end)
        .annotate(key=Value("authorized:delivery", output_field=CharField()))
        .values("key")
        .annotate(n=Count("pk"))
    )
    found: dict[str, int] = {}
    for key, number in by_state.union(soon, delivery, all=True).values_list("key", "n"):
        found[key] = found.get(key, 0) + number
    counts = {
        "failed": found.get(PaymentState.FAILED, 0),
        "expired": found.get(PaymentState.EXPIRED, 0) + found.get("authorized:lapsed", 0),
        "expiring": found.get("authorized:soon", 0) + found.get("authorized:delivery", 0),
        "awaiting_customer": found.get(PaymentState.AWAITING_CUSTOMER, 0),
        "not_authorized": sum(found.get(state, 0) for state in NOT_AUTHORIZED_STATES),
    }
    return {group.key: counts[group.key] for group in GROUPS}


@dataclass(frozen=True)
class ExpiryBucket:
    label: str
    count: int


# (label, from days, to days) relative to now; None is open-ended.
EXPIRY_BUCKETS = (
    ("Expired", None, 0),
    ("< 1 day", 0, 1),
    ("1 day", 1, 2),
    ("2 days", 2, 3),
    ("3 days", 3, 4),
    ("4 days", 4, 5),
    ("5–14 days", 5, 15),
    ("15+ days", 15, None),
)


def unpaid_by_days_to_expiry() -> list[ExpiryBucket]:
    """Unpaid orders with a (lapsed or current) authorization, by days to its expiry: one query.

    A UNION ALL of one aggregate per index range of the panel's groups, each read from its
    index alone (an OR of the ranges would read every unpaid order's row).
    """
    moment = now()
    filters = {}
    for index, (_, start, end) in enumerate(EXPIRY_BUCKETS):
        condition = Q(payment_expires_at__isnull=False)
        if start is not None:
            condition &= Q(payment_expires_at__gte=moment + timedelta(days=start))
        if end is not None:
            condition &= Q(payment_expires_at__lt=moment + timedelta(days=end))
        filters[f"b{index}"] = Count("pk", filter=condition)
    parts = [
        _live_orders()
        .filter(part)
        .order_by()
        .annotate(key=Value(1, output_field=IntegerField()))
        .values("key")
        .annotate(**filters)
        .values_list(*filters)
        for ranges in _group_ranges(moment).values()
        for part in ranges
    ]
    totals = [0] * len(EXPIRY_BUCKETS)
    for row in parts[0].union(*parts[1:], all=True):
        totals = [total + (count or 0) for total, count in zip(totals, row, strict=True)]
    return [
        ExpiryBucket(label, total)
        for (label, _, _), total in zip(EXPIRY_BUCKETS, totals, strict=True)
    ]


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def work_in_progress() -> list[StatusCount]:
    """Live orders by work status (open, in progress, ready to ship): one query."""
    found = dict(
        Order.objects.filter(status__in=LIVE_STATUSES)
        .values_list("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return [
        StatusCount(status, OrderStatus(status).label, found.get(status, 0))
        for status in LIVE_STATUSES
    ]


def order_for_screen(number: str) -> Order:
    """The order with what its header needs, or 404."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        Order.objects.select_related("account", "assigned_to", "supersedes", "superseded_by"),
        number=number,
    )


def order_timeline(order: Order, *, limit: int = 200) -> list:
    """The newest timeline rows first, with who did them."""
    return list(order.events.select_related("actor").order_by("-created_at", "-id")[:limit])
