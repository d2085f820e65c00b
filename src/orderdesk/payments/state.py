"""The order's payment state, derived from the payment records.

`payment_state_compute` is the definition; `payment_state_refresh` stores its result on the
order (with the expiry and amount of the current authorization) so the dashboard can read
it from one indexed column. The expiry sweep changes the stored state set-based and must
agree with this function, which a test checks.

The records are read in one statement (the order joined to its authorizations, a handful
per order, with the amount paid and the open-link check as subqueries) and the rules are
applied to them in Python, which `current_authorization` and the others below state as
queries. What the state needs of the customer's payment links (one open; the newest a
declined price increase) is recorded on the order by the link workflow, which passes it
here as `CustomerLinkFacts` whenever a link opens or closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache

from django.db import connection
from django.db.models import Sum

from orderdesk.common.clock import now
from orderdesk.common.rows import row_values
from orderdesk.common.updates import row_update
from orderdesk.orders.models import Order, OrderKind, OrderStatus, PaymentMethod, PaymentState
from orderdesk.payments.models import (
    LIVE,
    Authorization,
    AuthorizationStatus,
    Capture,
    ExternalPayment,
    is_valid,
    valid_at,
)

FAILED = (AuthorizationStatus.DECLINED, AuthorizationStatus.ERROR)
PAYMENT_STATE_FIELDS = ("payment_state", "payment_expires_at", "authorized_amount")
LINK_FIELDS = ("customer_link_open", "price_declined_at")
AUTHORIZATION_FACTS = ("id", "status", "amount", "expires_at", "created_at", "decline_code")


@dataclass(frozen=True)
class PaymentSnapshot:
    state: str
    expires_at: datetime | None = None
    authorized_amount: int = 0


@dataclass(frozen=True)
class AuthorizationFacts:
    """The columns of an authorization that the payment state depends on."""

    id: int
    status: str
    amount: int
    expires_at: datetime | None
    created_at: datetime
    decline_code: str  # tells a gateway outage from the customer's declined card


@dataclass(frozen=True)
class CustomerLinkFacts:
    """The order's payment links as the payment state sees them: whether one is open, and
    when the customer declined the newest one if it was a price increase they declined."""

    open: bool = False
    declined_at: datetime | None = None


def amount_paid(order: Order) -> int:
    captured = Capture.objects.filter(authorization__order=order).aggregate(s=Sum("amount"))["s"]
    external = ExternalPayment.objects.filter(order=order).aggregate(s=Sum("amount"))["s"]
    return (captured or 0) + (external or 0)


def current_authorization(order: Order, at: datetime | None = None) -> Authorization | None:
    """The newest authorization that is still good, if any."""
    moment = at or now()
    return (
        Authorization.objects.filter(valid_at(moment), order=order)
        .order_by("-expires_at", "-id")
        .first()
    )


@cache
def _records_sql(quote) -> str:
    # Raw SQL, because compiling the same statement through the ORM (two correlated
    # subqueries) cost ten times more than running it, on every change of every order.
    authorization, capture, external, order = (
        quote(model._meta.db_table) for model in (Authorization, Capture, ExternalPayment, Order)
    )
    return (
        "SELECT a.id, a.status, a.amount, a.expires_at, a.created_at, a.decline_code, "  # noqa: S608 (tables from models)
        f"COALESCE((SELECT SUM(c.amount) FROM {capture} c INNER JOIN {authorization} ca "
        "ON c.authorization_id = ca.id WHERE ca.order_id = o.id), 0) AS captured, "
        f"COALESCE((SELECT SUM(e.amount) FROM {external} e WHERE e.order_id = o.id), 0) "
        "AS external, "
        "o.customer_link_open AS link_open, o.price_declined_at AS declined_at "
        f"FROM {order} o LEFT OUTER JOIN {authorization} a ON a.order_id = o.id "
        "WHERE o.id = %s"
    )


def price_increase_declined(declined_at: datetime | None, authorizations) -> bool:
    """The customer declined the order's newest price increase and nothing has been tried
    since (no authorization attempted after the decline). The order then waits for a price
    the customer accepts, even while an older hold covers its total."""
    return declined_at is not None and not any(
        authorization.created_at > declined_at for authorization in authorizations
    )


@dataclass(frozen=True)
class PaymentRecords:
    paid: int
    link: CustomerLinkFacts
    authorizations: list[AuthorizationFacts]


def payment_records_read(order: Order) -> PaymentRecords:
    """The amount paid (captures and external payments), the link facts recorded on the
    order, and the order's authorizations: one statement (the order joined to its
    authorizations)."""
    with connection.cursor() as cursor:
        cursor.execute(_records_sql(connection.ops.quote_name), [order.pk])
        rows = cursor.fetchall()
    paid, link, authorizations = 0, CustomerLinkFacts(), []
    facts = _facts_fields()
    for row in rows:
        *columns, captured, external, link_open, declined_at = row
        paid = captured + external
        link = CustomerLinkFacts(bool(link_open), _aware(declined_at))
        if columns[0] is not None:  # else the order has no authorization: one row of NULLs
            authorizations.append(AuthorizationFacts(*row_values(facts, columns)))
    return PaymentRecords(paid, link, authorizations)


@cache
def _facts_fields() -> tuple:
    return tuple(Authorization._meta.get_field(name) for name in AUTHORIZATION_FACTS)


def _aware(value):
    # The order's column read beside the authorizations is converted here: on SQLite a
    # datetime arrives naive in UTC (or as text).
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value)).replace(tzinfo=timezone.utc)


def payment_state_compute(
    order: Order,
    at: datetime | None = None,
    *,
    link: CustomerLinkFacts | None = None,
    records: PaymentRecords | None = None,
) -> PaymentSnapshot:
    """The payment state from the records; `link`, when given, replaces the link facts
    stored on the order (the link workflow passes what it is about to store); `records`,
    when given, were read under the order's lock by a caller that changed none since."""
    moment = at or now()
    if order.status == OrderStatus.CANCELLED:
        return PaymentSnapshot(PaymentState.VOID)
    if order.payment_method == PaymentMethod.TERMS:
        return PaymentSnapshot(PaymentState.NOT_REQUIRED)
    records = records or payment_records_read(order)
    link = link or records.link
    open_link, authorizations = link.open, records.authorizations
    outstanding = order.total - records.paid
    if order.total > 0 and outstanding <= 0:
        return PaymentSnapshot(PaymentState.PAID)
    if order.total == 0:
        if order.kind == OrderKind.REPAIR and not open_link:
            return PaymentSnapshot(PaymentState.AWAITING_PRICE)
        if order.kind == OrderKind.SALE:
            return PaymentSnapshot(PaymentState.NOT_REQUIRED)
    current = _current(authorizations, moment)
    lapsed = None if current else _latest_lapsed(authorizations)
    shown = current or lapsed
    state = _state_of(link, authorizations, current, lapsed, outstanding)
    return PaymentSnapshot(state, shown and shown.expires_at, shown.amount if shown else 0)


def _state_of(link: CustomerLinkFacts, authorizations, current, lapsed, outstanding: int) -> str:
    """The state of an order that owes money, in the unpaid panel's order of urgency."""
    if link.open:
        return PaymentState.AWAITING_CUSTOMER
    if price_increase_declined(link.declined_at, authorizations):
        return PaymentState.AWAITING_PRICE
    if _last_attempt_failed(authorizations):
        return PaymentState.FAILED
    if current is not None and current.amount >= outstanding:
        return PaymentState.AUTHORIZED
    return PaymentState.EXPIRED if lapsed is not None else PaymentState.UNAUTHORIZED


def _by_expiry(authorization: AuthorizationFacts):
    # Newest expiry first, then the newest row; an authorization without an expiry (never
    # the case for a live or expired one) sorts as the oldest.
    return (authorization.expires_at is not None, authorization.expires_at or 0, authorization.id)


def _current(authorizations, moment: datetime) -> AuthorizationFacts | None:
    """The authorization that is still good and expires last (as `current_authorization`)."""
    valid = [
        authorization
        for authorization in authorizations
        if is_valid(authorization.status, authorization.expires_at, moment)
    ]
    return max(valid, key=_by_expiry, default=None)


def _latest_lapsed(authorizations) -> AuthorizationFacts | None:
    """The authorization that lapsed last (status expired, or past expiry before the sweep)."""
    lapsed = [
        authorization
        for authorization in authorizations
        if authorization.status in (*LIVE, AuthorizationStatus.EXPIRED)
    ]
    return max(lapsed, key=_by_expiry, default=None)


# An error of these codes is the gateway's outage, not the customer's card: it flags nothing.
GATEWAY_OUTAGE_CODES = ("gateway_unavailable", "gateway_error")


def gateway_outage(authorization) -> bool:
    return (
        authorization.status == AuthorizationStatus.ERROR
        and authorization.decline_code in GATEWAY_OUTAGE_CODES
    )


def _last_attempt_failed(authorizations) -> bool:
    attempts = [
        authorization
        for authorization in authorizations
        if authorization.status != AuthorizationStatus.VOIDED and not gateway_outage(authorization)
    ]
    last = max(attempts, key=lambda attempt: (attempt.created_at, attempt.id), default=None)
    return last is not None and last.status in FAILED


def payment_state_refresh(
    order: Order,
    at: datetime | None = None,
    *,
    also: tuple[str, ...] = (),
    link: CustomerLinkFacts | None = None,
    records: PaymentRecords | None = None,
) -> PaymentSnapshot:
    """Store the payment state on the order; `also` names other columns of the order whose
    values are set on the instance and not written yet (the last action of a timeline row
    recorded with `defer_last_action=True`), so that one UPDATE writes them all. `link`,
    from the link workflow, is stored with it."""
    snapshot = payment_state_compute(order, at, link=link, records=records)
    if link is not None:
        order.customer_link_open, order.price_declined_at = link.open, link.declined_at
        also = (*also, *LINK_FIELDS)
    order.payment_state = snapshot.state
    order.payment_expires_at = snapshot.expires_at
    order.authorized_amount = snapshot.authorized_amount
    fields = (*PAYMENT_STATE_FIELDS, *also)
    row_update(
        Order,
        order.pk,
        {field: getattr(order, field) for field in fields},
        sql_values={"crm_version": _crm_version_after(snapshot)},
    )
    return snapshot


def _crm_version_after(snapshot: PaymentSnapshot) -> tuple[str, list]:
    """One more when the stored payment state, expiry or amount changes (the CRM hears of
    it), compared with what the row holds, in the same UPDATE: no extra read or write.
    Written as SQL because the same CASE built from Case/When/Q cost more to compile
    (about 1.4 ms) than the whole UPDATE took to run."""
    expiry = (
        "payment_expires_at IS NULL" if snapshot.expires_at is None else "payment_expires_at = %s"
    )
    sql = (
        f"CASE WHEN payment_state = %s AND authorized_amount = %s AND {expiry} "
        "THEN crm_version ELSE crm_version + 1 END"
    )
    params = [snapshot.state, snapshot.authorized_amount]
    if snapshot.expires_at is not None:
        params.append(connection.ops.adapt_datetimefield_value(snapshot.expires_at))
    return sql, params
