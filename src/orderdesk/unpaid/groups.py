"""The panel's groups, in urgency order, and the conditions that put an order in each.

Every group is a set of disjoint ranges, each one walk of a partial index in expiry and id
order, so that counting or paging a group never reads every unpaid order.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Case, DateTimeField, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from orderdesk.common.sql import status_in
from orderdesk.orders.models import (
    FINISHED_STATUSES,
    UNPAID_STATES,
    Order,
    OrderStatus,
    PaymentState,
)

if TYPE_CHECKING:
    from orderdesk.unpaid.search import Search


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


LIVE_STATUSES = (OrderStatus.OPEN, OrderStatus.IN_PROGRESS, OrderStatus.READY_TO_SHIP)


NOT_AUTHORIZED_STATES = (PaymentState.UNAUTHORIZED, PaymentState.AWAITING_PRICE)


def live_condition() -> Q:
    """Not shipped nor cancelled, in the terms of the panel's partial indexes' condition."""
    return ~status_in(FINISHED_STATUSES)


def live_orders() -> QuerySet:
    return Order.objects.filter(live_condition())


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
    exact = LessThanOrEqual(
        TruncDate("payment_expires_at", tzinfo=timezone.get_default_timezone()), delivery
    )
    return Q(payment_expires_at__lt=_DateAtUTC(delivery, hours=_DAY_AFTER_EARLIEST_UTC_HOURS)) | (
        Q(payment_expires_at__lt=_DateAtUTC(delivery, hours=_DAY_AFTER_LATEST_UTC_HOURS)) & Q(exact)
    )


def panel_arms(moment: datetime) -> dict[str, Q]:
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


# Ends no authorization's expiry is beyond, given to the expiry ranges open at one end.
# Without range statistics (STAT4), SQLite's planner takes a range open at one end for a
# quarter of the index; to avoid sorting that many for a page in another order it walked
# every authorized order in that key's index instead (0.2 to 0.4 s at 1,000,000 orders).
# Closed at both ends, the range is read from order_payment_panel, as it is small.
_EXPIRY_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
_EXPIRY_CEILING = datetime(9000, 1, 1, tzinfo=UTC)


def group_ranges(moment: datetime) -> dict[str, list[Q]]:
    """Each group as disjoint ranges, each one walk of a partial index in expiry and id order.

    `order_payment_panel` serves a payment state (and an expiry range); the authorized orders
    beyond the warning window that expire by their delivery day are a range of
    `order_delivery_risk`. Together they are exactly the groups of the panel.
    """
    arms = panel_arms(moment)
    window_end = moment + timedelta(days=settings.ORDERDESK_WARNING_DAYS)
    authorized = Q(payment_state=PaymentState.AUTHORIZED)
    return {
        "failed": [Q(payment_state=PaymentState.FAILED)],
        # An authorized order past its expiry that the sweep has not reached yet is expired.
        "expired": [
            Q(payment_state=PaymentState.EXPIRED),
            authorized & Q(payment_expires_at__gt=_EXPIRY_FLOOR, payment_expires_at__lte=moment),
        ],
        # Valid, and expiring within the warning window or by the delivery day.
        "expiring": [
            authorized & Q(payment_expires_at__gt=moment, payment_expires_at__lt=window_end),
            arms["delivery"]
            & Q(payment_expires_at__gte=window_end, payment_expires_at__lt=_EXPIRY_CEILING),
        ],
        "awaiting_customer": [Q(payment_state=PaymentState.AWAITING_CUSTOMER)],
        "not_authorized": [Q(payment_state=state) for state in NOT_AUTHORIZED_STATES],
    }


def group_conditions(moment: datetime) -> dict[str, Q]:
    """Each group as one condition; the groups do not overlap."""
    return {
        key: functools.reduce(operator.or_, ranges) for key, ranges in group_ranges(moment).items()
    }


def unpaid_condition(moment: datetime) -> Q:
    """On the unpaid panel: live, and in one of its groups (the API's unpaid filter too)."""
    arms = panel_arms(moment)
    return live_condition() & (arms["state"] | arms["soon"] | arms["delivery"])


def urgency_rank(conditions: dict[str, Q]) -> Case:
    return Case(
        *(
            When(conditions[group.key], then=Value(rank))
            for rank, group in enumerate(GROUPS)
            if group.key != "not_authorized"
        ),
        default=Value(len(GROUPS) - 1),
        output_field=IntegerField(),
    )


def narrow(
    queryset: QuerySet, *, user, kind: str | None, mine: bool, search: Search | None
) -> QuerySet:
    """The orders under the panel's filters other than the group: kind, assignee, search."""
    if kind:
        queryset = queryset.filter(kind=kind)
    if mine:
        queryset = queryset.filter(assigned_to=user)
    if search is not None:
        queryset = queryset.filter(search.condition)
    return queryset
