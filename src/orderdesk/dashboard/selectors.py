"""Read-side queries of the CSR dashboard.

The unpaid panel is one indexed query for the page plus one aggregate for the counts: live
orders filtered on the denormalized payment state and expiry, which the partial index
`order_payment_panel` (payment_state, payment_expires_at WHERE live) serves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate

from orderdesk.common.clock import now
from orderdesk.orders.models import UNPAID_STATES, Order, OrderStatus, PaymentState


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
# Written exactly as the partial index's condition, so both databases can prove it applies.
FINISHED_STATUSES = ["shipped", "cancelled"]
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
        "delivery": authorized
        & Q(estimated_delivery_date__isnull=False, expiry_day__lte=F("estimated_delivery_date")),
    }


def _group_conditions(moment: datetime) -> dict[str, Q]:
    """Each group as a union of index-friendly conditions; the groups do not overlap."""
    arms = _arms(moment)
    lapsed = Q(payment_state=PaymentState.AUTHORIZED, payment_expires_at__lte=moment)
    valid = Q(payment_expires_at__gt=moment)
    return {
        "failed": Q(payment_state=PaymentState.FAILED),
        # An authorized order past its expiry that the sweep has not reached yet is expired.
        "expired": Q(payment_state=PaymentState.EXPIRED) | lapsed,
        "expiring": (arms["soon"] & valid) | (arms["delivery"] & valid),
        "awaiting_customer": Q(payment_state=PaymentState.AWAITING_CUSTOMER),
        "not_authorized": Q(payment_state__in=NOT_AUTHORIZED_STATES),
    }


def _panel_base(moment: datetime) -> tuple[QuerySet, dict[str, Q]]:
    arms = _arms(moment)
    queryset = (
        Order.objects.exclude(status__in=FINISHED_STATUSES)
        .annotate(expiry_day=TruncDate("payment_expires_at", tzinfo=business_zone()))
        .filter(arms["state"] | arms["soon"] | arms["delivery"])
    )
    return queryset, _group_conditions(moment)


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
    """The unpaid panel: one page of rows, the counts per group, and paging. Two queries."""
    moment = now()
    group = group if group in GROUPS_BY_KEY else None
    sort = sort if sort in SORTS else DEFAULT_SORT
    counts = unpaid_counts(user=user, kind=kind, mine=mine, search=search, moment=moment)
    total = counts[group] if group else sum(counts.values())
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    queryset = unpaid_panel_queryset(
        user=user, group=group, kind=kind, mine=mine, search=search, sort=sort, moment=moment
    )
    start = (page - 1) * per_page
    rows = list(queryset[start : start + per_page]) if total else []
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


def unpaid_counts(
    *, user, kind: str | None = None, mine: bool = False, search: str = "", moment=None
) -> dict[str, int]:
    """How many orders each group holds under the filters other than the group: one query."""
    moment = moment or now()
    queryset, conditions = _panel_base(moment)
    queryset = _narrow(queryset, user=user, kind=kind, mine=mine, search=search)
    totals = queryset.aggregate(
        **{key: Count("pk", filter=condition) for key, condition in conditions.items()}
    )
    return {group.key: totals[group.key] or 0 for group in GROUPS}


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
    """Unpaid orders with a (lapsed or current) authorization, by days to its expiry: one query."""
    moment = now()
    queryset, _ = _panel_base(moment)
    filters = {}
    for index, (_, start, end) in enumerate(EXPIRY_BUCKETS):
        condition = Q(payment_expires_at__isnull=False)
        if start is not None:
            condition &= Q(payment_expires_at__gte=moment + timedelta(days=start))
        if end is not None:
            condition &= Q(payment_expires_at__lt=moment + timedelta(days=end))
        filters[f"b{index}"] = Count("pk", filter=condition)
    totals = queryset.aggregate(**filters)
    return [
        ExpiryBucket(label, totals[f"b{index}"] or 0)
        for index, (label, _, _) in enumerate(EXPIRY_BUCKETS)
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
