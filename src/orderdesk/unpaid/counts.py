"""How many orders each group of the panel holds: one index-only aggregate."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, CharField, Count, F, Value, When

from orderdesk.common.clock import now
from orderdesk.orders.models import PaymentState
from orderdesk.unpaid.groups import (
    GROUPS,
    NOT_AUTHORIZED_STATES,
    group_conditions,
    live_orders,
    narrow,
    panel_arms,
    unpaid_condition,
    urgency_rank,
)
from orderdesk.unpaid.search import Search, search_for


def unpaid_counts(
    *,
    user,
    kind: str | None = None,
    mine: bool = False,
    search: str | Search | None = "",
    moment=None,
) -> dict[str, int]:
    """How many orders each group holds under the filters other than the group: one query.

    A UNION ALL of three index-only aggregates over live orders: the unpaid states grouped
    by payment state (order_payment_panel), the authorized orders lapsed or expiring within
    the warning window (the same index, a range), and the authorized orders beyond the
    window that expire by their delivery day (order_delivery_risk). A search that matches
    few orders counts them instead, each looked up once.
    """
    moment = moment or now()
    search = search_for(search, moment)
    live = narrow(live_orders(), user=user, kind=kind, mine=mine, search=search).order_by()
    if search is not None and search.few:
        return _few_by_group(live, moment)
    return _walked_by_group(live, moment)


def _walked_by_group(live, moment) -> dict[str, int]:
    """The counts from walks of the panel's ranges: the UNION ALL of three aggregates."""
    arms = panel_arms(moment)
    window_end = moment + timedelta(days=settings.ORDERDESK_WARNING_DAYS)
    by_state = (
        live.filter(arms["state"])
        .annotate(key=F("payment_state"))
        .values("key")
        .annotate(n=Count("pk"))
    )
    soon = (
        live.filter(arms["soon"])
        .annotate(key=_lapsed_or_soon(moment))
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
    return _by_group(found)


def _few_by_group(live, moment) -> dict[str, int]:
    """The counts of a few orders, found through the search's own indexes: one pass that
    ranks each order found, not one walk of the panel's ranges per arm."""
    ranked = (
        live.filter(unpaid_condition(moment))
        .annotate(rank=urgency_rank(group_conditions(moment)))
        .values("rank")
        .annotate(n=Count("pk"))
    )
    found = dict(ranked.values_list("rank", "n"))
    return {group.key: found.get(rank, 0) for rank, group in enumerate(GROUPS)}


def _lapsed_or_soon(moment) -> Case:
    """An authorized order past its expiry that the sweep has not reached yet is expired."""
    return Case(
        When(payment_expires_at__lte=moment, then=Value("authorized:lapsed")),
        default=Value("authorized:soon"),
        output_field=CharField(),
    )


def _by_group(found: dict[str, int]) -> dict[str, int]:
    """The aggregate's keys (payment states and the authorized arms) summed into groups."""
    counts = {
        "failed": found.get(PaymentState.FAILED, 0),
        "expired": found.get(PaymentState.EXPIRED, 0) + found.get("authorized:lapsed", 0),
        "expiring": found.get("authorized:soon", 0) + found.get("authorized:delivery", 0),
        "awaiting_customer": found.get(PaymentState.AWAITING_CUSTOMER, 0),
        "not_authorized": sum(found.get(state, 0) for state in NOT_AUTHORIZED_STATES),
    }
    return {group.key: counts[group.key] for group in GROUPS}
