"""The expiry sweep: set-based, so a million authorizations expire in a few statements.

An authorization is valid up to, not including, its `expires_at`; the sweep at moment T
expires every live authorization with expires_at <= T, writes one timeline row per
authorization, and moves the orders whose stored payment state rested on it to `expired`.
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


def _lapsed(moment: datetime):
    # No ordering: the model's default would make every statement below sort the rows.
    return Authorization.objects.filter(status__in=LIVE, expires_at__lte=moment).order_by()


@transaction.atomic
def authorizations_expire(at: datetime | None = None) -> int:
    """Expire every authorization past its expiry; return how many expired."""
    moment = at or now()
    advisory_lock(SWEEP_LOCK_KEY)
    lapsed = _lapsed(moment)
    label = EventKind.AUTHORIZATION_EXPIRED.label
    lapsed_sql, lapsed_params = lapsed.values("order_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {OrderEvent._meta.db_table} "  # noqa: S608 (table names from models)
            "(order_id, kind, message, details, actor_label, created_at) "
            f"SELECT order_id, %s, %s, %s, %s, %s FROM ({lapsed_sql}) AS lapsed",
            [EventKind.AUTHORIZATION_EXPIRED, label, "{}", "expiry sweep", moment, *lapsed_params],
        )
    Order.objects.filter(pk__in=lapsed.values("order_id")).update(
        last_action=label, last_action_at=moment
    )
    # Only orders whose stored state rested on a lapsing authorization: a shipped order
    # (overridden with a partial hold) expires too, as payment_state_compute says.
    Order.objects.filter(
        pk__in=lapsed.values("order_id"),
        payment_state__in=[PaymentState.AUTHORIZED, PaymentState.UNAUTHORIZED],
        payment_expires_at__lte=moment,
    ).exclude(status=OrderStatus.CANCELLED).update(payment_state=PaymentState.EXPIRED)
    return lapsed.update(status=AuthorizationStatus.EXPIRED, updated_at=moment)
