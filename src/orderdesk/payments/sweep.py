"""The expiry sweep: set-based, so a million authorizations expire in a few statements.

An authorization is valid up to, not including, its `expires_at`; the sweep at moment T
expires every live authorization with expires_at <= T, writes one timeline row per
authorization, and moves the orders whose stored payment state rested on it to `expired`.

Three writes, each one statement over the whole lapsed set: the timeline rows, the orders
(last action and payment state in one UPDATE, so each order row is rewritten once), the
authorizations. On SQLite the lapsed set is first copied into a temporary table of ids in
order id order, so it is read once from the partial index and each write walks its table in
key order; on PostgreSQL each statement reads it from the partial index, which costs less
than filling and joining a temporary table there (measured: bench/README.md, section (b)).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import advisory_lock
from orderdesk.orders.models import EventKind, Order, OrderEvent, OrderStatus, PaymentState
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.state import LIVE

SWEEP_LOCK_KEY = 7_100_029
LAPSED_TABLE = "payments_sweep_lapsed"  # SQLite only: temporary, dropped before commit


def _literals(values) -> str:
    # The live statuses written into the SQL, not bound: SQLite plans a statement before its
    # parameters are bound, so with `status IN (?, ?)` it cannot prove that the partial index
    # `authorization_live_expiry` applies and reads the whole table. Constants of the code.
    for value in values:
        if not str(value).replace("_", "").isalnum():
            raise ValueError(f"not a plain status: {value!r}")
    return ", ".join(f"'{value}'" for value in values)


def _names() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "authorization": quote(Authorization._meta.db_table),
        "order": quote(Order._meta.db_table),
        "event": quote(OrderEvent._meta.db_table),
        "live": _literals(LIVE),
    }


def _lapsed_where(names: dict[str, str]) -> str:
    """The lapsed authorizations, as the partial index states them (one parameter: T)."""
    return f"status IN ({names['live']}) AND expires_at <= %s"


def _statements(names: dict[str, str], *, staged: bool) -> list[str]:
    """INSERT the timeline rows, UPDATE the orders, UPDATE the authorizations.

    `staged`: read the lapsed set from the temporary table (SQLite) instead of the index.
    """
    lapsed_where = _lapsed_where(names)
    if staged:
        lapsed_rows = LAPSED_TABLE
        expire_where = f"id IN (SELECT id FROM {LAPSED_TABLE})"  # noqa: S608
    else:
        lapsed_rows = f"(SELECT order_id FROM {names['authorization']} WHERE {lapsed_where})"  # noqa: S608
        expire_where = lapsed_where
    # Only orders whose stored state rested on a lapsing authorization move to expired: a
    # shipped order (overridden with a partial hold) expires too, as payment_state_compute says.
    state = (
        "CASE WHEN payment_state IN (%s, %s) AND payment_expires_at <= %s AND NOT status = %s "
        "THEN %s ELSE payment_state END"
    )
    return [
        f"INSERT INTO {names['event']} "  # noqa: S608 (names from the models, statuses constants)
        "(order_id, kind, message, details, actor_label, created_at) "
        f"SELECT order_id, %s, %s, %s, %s, %s FROM {lapsed_rows} AS lapsed",
        f"UPDATE {names['order']} SET last_action = %s, last_action_at = %s, "  # noqa: S608
        f"payment_state = {state} WHERE id IN (SELECT order_id FROM {lapsed_rows} AS lapsed)",
        f"UPDATE {names['authorization']} SET status = %s, updated_at = %s "  # noqa: S608
        f"WHERE {expire_where}",
    ]


@transaction.atomic
def authorizations_expire(at: datetime | None = None) -> int:
    """Expire every authorization past its expiry; return how many expired."""
    moment = at or now()
    advisory_lock(SWEEP_LOCK_KEY)
    names = _names()
    stamp = connection.ops.adapt_datetimefield_value(moment)
    label = EventKind.AUTHORIZATION_EXPIRED.label
    staged = connection.vendor == "sqlite"
    lapsed_params = [] if staged else [stamp]
    insert, orders, expire = _statements(names, staged=staged)
    with connection.cursor() as cursor:
        if staged:
            cursor.execute(
                f"CREATE TEMP TABLE {LAPSED_TABLE} AS SELECT id, order_id "  # noqa: S608
                f"FROM {names['authorization']} WHERE {_lapsed_where(names)} ORDER BY order_id",
                [stamp],
            )
        cursor.execute(
            insert,
            [EventKind.AUTHORIZATION_EXPIRED, label, "{}", "expiry sweep", stamp, *lapsed_params],
        )
        cursor.execute(
            orders,
            [
                label,
                stamp,
                PaymentState.AUTHORIZED,
                PaymentState.UNAUTHORIZED,
                stamp,
                OrderStatus.CANCELLED,
                PaymentState.EXPIRED,
                *lapsed_params,
            ],
        )
        cursor.execute(expire, [AuthorizationStatus.EXPIRED, stamp, *lapsed_params])
        expired = cursor.rowcount
        if staged:
            cursor.execute(f"DROP TABLE {LAPSED_TABLE}")
    return expired
