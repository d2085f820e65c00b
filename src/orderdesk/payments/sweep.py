"""The expiry sweep: set-based, so a million authorizations expire in a few statements.

An authorization is valid up to, not including, its `expires_at`; the sweep at moment T
expires every live authorization with expires_at <= T, writes one timeline row per
authorization, and moves the orders whose stored payment state rested on it to `expired`.

Three writes, each one statement over the whole lapsed set: the timeline rows, the orders
(last action and payment state in one UPDATE, so each order row is rewritten once), the
authorizations. The lapsed set is read from the partial index `authorization_live_expiry`,
which holds the order id too. On SQLite it is read once, into a temporary table of (order
id, id), so each write walks its table in key order; on PostgreSQL each statement reads the
index, which measured cheaper than filling and joining a temporary table there, or than one
statement with data-modifying CTEs (bench/README.md, section (b)).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from orderdesk.common.clock import now
from orderdesk.common.locks import advisory_lock
from orderdesk.common.sql import sql_literals
from orderdesk.orders.models import EventKind, Order, OrderEvent, OrderStatus, PaymentState
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.statuses import AUTHORIZATION_MACHINE

SWEEP_LOCK_KEY = 7_100_029
LAPSED_TABLE = "payments_sweep_lapsed"  # SQLite only: temporary, dropped before the end


def expirable() -> tuple[str, ...]:
    """The statuses the authorization machine allows to move to `expired`."""
    return AUTHORIZATION_MACHINE.sources(AuthorizationStatus.EXPIRED)


def _names() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "authorization": quote(Authorization._meta.db_table),
        "order": quote(Order._meta.db_table),
        "event": quote(OrderEvent._meta.db_table),
        # Only from the statuses the state machine lets expire (the live ones), in literals
        # as authorization_live_expiry declares them (see orderdesk.common.sql).
        "live": sql_literals(expirable()),
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
        # Keyed by order id, so the timeline rows go in in that order without a sort, and
        # their indexes by order are appended to rather than written all over.
        lapsed_rows, in_order = LAPSED_TABLE, " ORDER BY order_id"
        expire_where = f"id IN (SELECT id FROM {LAPSED_TABLE})"  # noqa: S608
    else:
        # No ORDER BY: PostgreSQL estimates the lapsed set from the whole table's expiries
        # (most of them past, on rows no longer live), so to avoid a sort it would read every
        # authorization by its order index, also when nothing is due.
        lapsed_rows = f"(SELECT order_id FROM {names['authorization']} WHERE {lapsed_where})"  # noqa: S608
        in_order, expire_where = "", lapsed_where
    # Only orders whose stored state rested on a lapsing authorization move to expired: a
    # shipped order (overridden with a partial hold) expires too, as payment_state_compute says.
    moves = "payment_state IN (%s, %s) AND payment_expires_at <= %s AND NOT status = %s"
    state = f"CASE WHEN {moves} THEN %s ELSE payment_state END"
    # The CRM hears of the move to expired (orders.models.Order.crm_version), in this UPDATE.
    crm_version = f"CASE WHEN {moves} THEN crm_version + 1 ELSE crm_version END"
    return [
        f"INSERT INTO {names['event']} "  # noqa: S608 (names from the models, statuses constants)
        "(order_id, kind, message, details, actor_label, created_at) "
        f"SELECT order_id, %s, %s, %s, %s, %s FROM {lapsed_rows} AS lapsed{in_order}",
        f"UPDATE {names['order']} SET last_action = %s, last_action_at = %s, "  # noqa: S608
        f"crm_version = {crm_version}, payment_state = {state} "
        f"WHERE id IN (SELECT order_id FROM {lapsed_rows} AS lapsed)",
        f"UPDATE {names['authorization']} SET status = %s, updated_at = %s "  # noqa: S608
        f"WHERE {expire_where}",
    ]


def _stage(cursor, names: dict[str, str], stamp) -> None:
    """SQLite: the lapsed (order id, id) pairs into a temporary table keyed in that order."""
    cursor.execute(
        f"CREATE TEMP TABLE {LAPSED_TABLE} (order_id INTEGER NOT NULL, id INTEGER NOT NULL, "
        "PRIMARY KEY (order_id, id)) WITHOUT ROWID"
    )
    cursor.execute(
        f"INSERT INTO {LAPSED_TABLE} (order_id, id) SELECT order_id, id "  # noqa: S608
        f"FROM {names['authorization']} WHERE {_lapsed_where(names)}",
        [stamp],
    )


@transaction.atomic
def authorizations_expire(at: datetime | None = None) -> int:
    """Expire every authorization past its expiry; return how many expired."""
    moment = at or now()
    advisory_lock(SWEEP_LOCK_KEY)
    names = _names()
    stamp = connection.ops.adapt_datetimefield_value(moment)
    label = EventKind.AUTHORIZATION_EXPIRED.label
    staged = connection.vendor == "sqlite"
    lapsed = [] if staged else [stamp]  # the parameter of each statement's lapsed subquery
    insert, orders, expire = _statements(names, staged=staged)
    state = [PaymentState.AUTHORIZED, PaymentState.UNAUTHORIZED, stamp, OrderStatus.CANCELLED]
    with connection.cursor() as cursor:
        if staged:
            _stage(cursor, names, stamp)
        event = [EventKind.AUTHORIZATION_EXPIRED, label, "{}", "expiry sweep", stamp]
        cursor.execute(insert, [*event, *lapsed])
        # crm_version is set before payment_state, and both read the row as it was.
        cursor.execute(orders, [label, stamp, *state, *state, PaymentState.EXPIRED, *lapsed])
        cursor.execute(expire, [AuthorizationStatus.EXPIRED, stamp, *lapsed])
        expired = cursor.rowcount
        if staged:
            cursor.execute(f"DROP TABLE {LAPSED_TABLE}")
    return expired
