"""The figures beside the panel: unpaid orders by days to expiry, work in progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, IntegerField, Q, Value

from orderdesk.common.clock import now
from orderdesk.orders.models import Order, OrderStatus, PaymentState
from orderdesk.unpaid.groups import LIVE_STATUSES, group_ranges, live_orders


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
        live_orders()
        .filter(part)
        .order_by()
        .annotate(key=Value(1, output_field=IntegerField()))
        .values("key")
        .annotate(**filters)
        .values_list(*filters)
        for ranges in group_ranges(moment).values()
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


@dataclass(frozen=True)
class PanelFigures:
    """The figures beside the panel, as counted at `as_of` (shown with them)."""

    work: list[StatusCount]
    expiry: list[ExpiryBucket]
    as_of: datetime


FIGURES_CACHE_KEY = "orderdesk:unpaid:figures"


FIGURES_SECONDS = 60


def panel_figures() -> PanelFigures:
    """The work-in-progress counts and the days-to-expiry chart, counted at most once a minute.

    Both count every live order, which costs more than the whole panel at scale; the page
    refreshes every minute anyway, so a count up to a minute old, shown with its time, is
    as useful and every other view of that minute reads it from the cache.
    """
    figures = cache.get(FIGURES_CACHE_KEY)
    if figures is None:
        figures = PanelFigures(
            work=work_in_progress(), expiry=unpaid_by_days_to_expiry(), as_of=now()
        )
        cache.set(FIGURES_CACHE_KEY, figures, FIGURES_SECONDS)
    return figures


@dataclass(frozen=True)
class LiveOrderCensus:
    """Live orders (not shipped or cancelled) by payment state, as counted at `as_of`."""

    by_payment_state: dict[str, int]
    as_of: datetime


LIVE_ORDERS_CACHE_KEY = "orderdesk:unpaid:live-orders"


def live_orders_by_payment_state() -> LiveOrderCensus:
    """Every live order by payment state, counted at most once a minute, like the figures.

    The count reads every live order's index entry (most of them authorized): at scale it
    costs more than the rest of a /metrics scrape together, and a population that moves by
    a few orders a minute needs no fresher count; /metrics exposes `as_of` beside it.
    """
    census = cache.get(LIVE_ORDERS_CACHE_KEY)
    if census is None:
        found = dict(live_orders().values_list("payment_state").annotate(n=Count("pk")).order_by())
        census = LiveOrderCensus(
            {state: found.get(state, 0) for state in PaymentState.values}, as_of=now()
        )
        cache.set(LIVE_ORDERS_CACHE_KEY, census, FIGURES_SECONDS)
    return census
