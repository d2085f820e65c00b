"""The panel's search: an order number's beginning, or part of its account's name or e-mail.

The search is resolved once per request into a condition on orders, written for one of two
ways of finding its orders, whichever reads fewer index entries:

- few: the live orders whose number starts with the text (order_number_prefix) and the
  matching accounts' orders on the panel (order_panel_by_account) are each fewer than
  SEARCH_FEW_ORDERS; their ids are then looked up, and a page of them is one sorted query.
- many: the search is tested while walking the panel's own ranges, whose indexes hold the
  number and the account, so no order outside the panel is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, Func, Q, QuerySet
from django.db.models.lookups import IStartsWith

from orderdesk.accounts.models import Account
from orderdesk.common.sql import ids_in, status_in
from orderdesk.orders.models import FINISHED_STATUSES, Order
from orderdesk.unpaid.groups import group_conditions, unpaid_condition, urgency_rank

# Up to this many matching (or, when nearly all match, not matching) accounts are named by
# id, so that the accounts' orders are a range of order_panel_by_account, or a test against
# a short list while walking the panel; beyond it a subquery names them.
SEARCH_ACCOUNTS_LISTED = 500


# Up to this many live orders matched through their own indexes, looking each up costs
# less than walking the panel's ranges (about 50,000 entries at 1,000,000 orders).
SEARCH_FEW_ORDERS = 2_000


@dataclass(frozen=True)
class Search:
    """A search resolved once: the condition on orders, and whether it matches few live
    orders (found through their own indexes) or many (tested while walking the panel)."""

    text: str
    condition: Q
    few: bool


class _Unindexed(Func):
    """The column's value, written so that SQLite cannot look it up in an index (unary plus,
    SQLite's documented way): SQLite would otherwise walk every live order of a broad number
    prefix through order_number_prefix instead of testing the panel's index entries."""

    template = "%(expressions)s"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def search_for(search: str | Search | None, moment: datetime) -> Search | None:
    """The search read for the panel at `moment` (once per panel: its several queries share
    it); one already read, as it is."""
    if isinstance(search, str):
        return search_resolve(search, panel=unpaid_condition(moment))
    return search


def few_page(ordered: QuerySet, ordering: tuple, moment: datetime, start: int, stop: int) -> list:
    """Rows start..stop of a search's few orders, `ordered` (the panel's query) sorted whole:
    the page's ids first, so only its rows are joined to their account and assignee."""
    ids = ordered.values("pk")[start:stop]
    page = Order.objects.filter(pk__in=ids).annotate(urgency=urgency_rank(group_conditions(moment)))
    return list(page.select_related("account", "assigned_to").order_by(*ordering))


def search_resolve(text: str, *, panel: Q) -> Search | None:
    """The search for `text` (None when it is blank), its accounts looked up once; `panel`
    is the panel's condition at the moment it is read for (the accounts' orders are
    counted only there, from order_panel_by_account)."""
    text = text.strip()
    if not text:
        return None
    listed, accounts = _accounts_condition(text)
    if listed is not None:
        by_number = _few_ids(_live().filter(number__istartswith=text))
        by_account = (
            _few_ids(Order.objects.filter(panel, accounts)) if by_number is not None else None
        )
        if by_account is not None:
            # The ids themselves, not a subquery: each database then knows how few they are
            # (PostgreSQL planned workers in parallel for a subquery it thought large).
            return Search(text, ids_in({*by_number, *by_account}), few=True)
    number = Q(IStartsWith(_Unindexed("number"), text))
    return Search(text, number | accounts, few=False)


def _live() -> QuerySet:
    return Order.objects.filter(~status_in(FINISHED_STATUSES))


def _few_ids(orders: QuerySet) -> list[int] | None:
    """The orders' ids, or None if there are SEARCH_FEW_ORDERS or more."""
    ids = list(orders.order_by().values_list("pk", flat=True)[:SEARCH_FEW_ORDERS])
    return ids if len(ids) < SEARCH_FEW_ORDERS else None


def _accounts_condition(text: str) -> tuple[list[int] | None, Q]:
    """The matching accounts (their ids, if few) and the condition on orders they give.

    When nearly every account matches, the few that do not are named instead (none: every
    order matches), so the panel's walk tests a short list.
    """
    matching = Q(name__icontains=text) | Q(ecommerce_email__icontains=text)
    ids = _first_ids(Account.objects.filter(matching))
    if ids is not None:
        return ids, ids_in(ids, "account")
    others = _first_ids(Account.objects.exclude(matching))
    if others is not None:
        return None, ~ids_in(others, "account")
    return None, Q(account__in=Account.objects.filter(matching).values("pk"))


def _first_ids(accounts: QuerySet) -> list[int] | None:
    """The accounts' ids, or None if there are more than SEARCH_ACCOUNTS_LISTED."""
    ids = list(accounts.order_by().values_list("pk", flat=True)[: SEARCH_ACCOUNTS_LISTED + 1])
    return ids if len(ids) <= SEARCH_ACCOUNTS_LISTED else None
