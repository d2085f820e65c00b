"""A large demo data set in about a minute: set-based SQL in batches, with a progress bar.

`orderdesk demo --orders N` builds through the real services (about 40 orders a second),
which is right for a few hundred orders with their whole history and far too slow for a
million. From `BULK_FROM_ORDERS` up, the orders, their accounts and one authorization each
are written by INSERT … SELECT over a number series, every row a pure function of its
number n, so SQLite and PostgreSQL get the same data:

- n % 20 == 0 (5 %) is unpaid, spread by (n / 20) % 6 over failed, expired, awaiting
  customer, not authorized, awaiting price, and authorized but expiring within 5 days;
- n % 20 in 1..10 shipped and paid; 11..16 and 19 authorized and valid for 6 to 28 more
  days; 17 cancelled; 18 on terms and shipped.

Columns are listed from the models, so a column another app adds later gets its default.
The benchmarks build their data set with the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max

BULK_FROM_ORDERS = 5_000

ACCOUNTS = 10_000

BATCH_ORDERS = 50_000


@dataclass(frozen=True)
class BulkNaming:
    """Where a bulk data set's rows start (ids after the existing ones) and how it names them."""

    number_prefix: str = "D"
    account_name: str = "Demo customer "
    account_email: str = "demo"
    order_base: int = 0
    account_base: int = 0
    authorization_base: int = 0


def _sql_dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "series": "SELECT n FROM generate_series({start}, {stop}) AS n",
            "at": "(now() + ({days}) * interval '1 day')",
            "date": "(current_date + ({days})::int)",
            "text": "({expression})::text",
        }
    return {
        "series": (
            "WITH RECURSIVE series(n) AS (SELECT {start} UNION ALL SELECT n + 1 FROM series "
            "WHERE n < {stop}) SELECT n FROM series"
        ),
        "at": "strftime('%Y-%m-%d %H:%M:%f', julianday('now') + ({days}))",
        "date": "date(julianday('now') + ({days}))",
        "text": "CAST(({expression}) AS TEXT)",
    }


def _at(days: str) -> str:
    return _sql_dialect()["at"].format(days=days)


def _text(expression: str) -> str:
    return _sql_dialect()["text"].format(expression=expression)


BUCKET = "(n % 20)"
UNPAID = "((n / 20) % 6)"
CREATED_DAYS_AGO = "(n % 400 + 1)"
TOTAL = "(1000 + (n * 37) % 50000)"  # the order's total and its authorization's amount


def _case(unpaid: list[str], *, paid: str, live: str, cancelled: str, terms: str) -> str:
    """One SQL CASE over the buckets; `unpaid` has one expression per unpaid kind."""
    unpaid_case = " ".join(
        f"WHEN {UNPAID} = {index} THEN {value}" for index, value in enumerate(unpaid)
    )
    return (
        f"(CASE WHEN {BUCKET} = 0 THEN (CASE {unpaid_case} END) "
        f"WHEN {BUCKET} BETWEEN 1 AND 10 THEN {paid} "
        f"WHEN {BUCKET} = 17 THEN {cancelled} WHEN {BUCKET} = 18 THEN {terms} ELSE {live} END)"
    )


def order_columns(naming: BulkNaming) -> dict[str, str]:
    # One SQL expression per column of the orders table: longer than 40 lines because it is
    # a table of columns, read top to bottom, not steps.
    created = _at(f"-{CREATED_DAYS_AGO}")
    return {
        "id": f"({naming.order_base} + n)",
        "number": f"'{naming.number_prefix}' || " + _text("n"),
        "account_id": f"({naming.account_base} + 1 + n % {ACCOUNTS})",
        "kind": "(CASE WHEN n % 3 = 0 THEN 'sale' ELSE 'repair' END)",
        "status": _case(
            ["'open'", "'in_progress'", "'open'", "'open'", "'in_progress'", "'ready_to_ship'"],
            paid="'shipped'",
            live="(CASE WHEN n % 3 = 0 THEN 'open' WHEN n % 3 = 1 THEN 'in_progress' ELSE 'ready_to_ship' END)",
            cancelled="'cancelled'",
            terms="'shipped'",
        ),
        "cancel_reason": f"(CASE WHEN {BUCKET} = 17 THEN 'customer_request' ELSE '' END)",
        "currency": "'USD'",
        "quoted_total": f"(CASE WHEN {BUCKET} = 0 AND {UNPAID} = 4 THEN 0 ELSE {TOTAL} END)",
        "total": f"(CASE WHEN {BUCKET} = 0 AND {UNPAID} = 4 THEN 0 ELSE {TOTAL} END)",
        "payment_method": (
            f"(CASE WHEN {BUCKET} = 18 THEN 'terms' WHEN n % 4 = 0 THEN 'paypal' ELSE 'card' END)"
        ),
        "estimated_delivery_date": (
            f"(CASE WHEN {BUCKET} = 0 THEN {_sql_dialect()['date'].format(days='n % 30')} END)"
        ),
        "created_at": created,
        "updated_at": created,
        "payment_state": _case(
            [
                "'failed'",
                "'expired'",
                "'awaiting_customer'",
                "'unauthorized'",
                "'awaiting_price'",
                "'authorized'",
            ],
            paid="'paid'",
            live="'authorized'",
            cancelled="'void'",
            terms="'not_required'",
        ),
        "payment_expires_at": _authorization_expiry(),
        "authorized_amount": _case(
            ["0", TOTAL, TOTAL, "0", "0", TOTAL], paid="0", live=TOTAL, cancelled="0", terms="0"
        ),
        "last_action": "'Order created'",
        "last_action_at": created,
        # Bulk demo orders are never sent to the CRM: nothing for its relay to pick up.
        "crm_version": "1",
        "crm_settled_version": "1",
    }


def _expiry(*, soon: str, later: str, lapsed: str) -> str:
    return _case(
        ["NULL", lapsed, lapsed, "NULL", "NULL", soon],
        paid="NULL",
        live=later,
        cancelled="NULL",
        terms="NULL",
    )


def _authorization_expiry() -> str:
    """When the n-th order's authorization expires, NULL where it has none: the order's
    payment_expires_at and the authorization's expires_at are this one expression."""
    return _expiry(
        soon=_at("(n % 120) / 24.0"),  # within 5 days
        later=_at("6 + (n % 22)"),
        lapsed=_at("-(1 + n % 20)"),
    )


def authorization_columns(naming: BulkNaming) -> dict[str, str]:
    created = _at(f"-{CREATED_DAYS_AGO}")
    expires = _authorization_expiry()
    return {
        "id": f"({naming.authorization_base} + n)",
        "order_id": f"({naming.order_base} + n)",
        "gateway": "'sandbox'",
        "method": "(CASE WHEN n % 4 = 0 THEN 'paypal' ELSE 'card' END)",
        "gateway_reference": f"'auth_{naming.number_prefix}' || " + _text("n"),
        "amount": TOTAL,
        "currency": "'USD'",
        "status": _case(
            ["'declined'", "'expired'", "'expired'", "'voided'", "'voided'", "'authorized'"],
            paid="'captured'",
            live="'authorized'",
            cancelled="'voided'",
            terms="'voided'",
        ),
        "authorized_at": created,
        "expires_at": expires.replace("NULL", _at("-1")),
        "card_brand": "'Visa'",
        "card_last4": "'4242'",
        "idempotency_key": f"'auth-{naming.number_prefix}' || " + _text("n"),
        "source": "'storefront'",
        "created_at": created,
        "updated_at": created,
    }


def account_columns(naming: BulkNaming) -> dict[str, str]:
    return {
        "id": f"({naming.account_base} + n)",
        "name": f"'{naming.account_name}' || " + _text("n"),
        "ecommerce_email": f"'{naming.account_email}' || " + _text("n") + " || '@example.com'",
        "phone": "'555-0100'",
        "crm_id": "''",
        "created_at": _at("-400"),
    }


def insert_series(model, columns: dict[str, str], start: int, stop: int) -> None:
    """INSERT … SELECT over start..stop; columns not given get their model default."""
    names, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        names.append(connection.ops.quote_name(field.column))
        if field.column in columns:
            expressions.append(columns[field.column].replace("%", "%%"))
        elif field.null:
            expressions.append("NULL")
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    series = _sql_dialect()["series"].format(start=int(start), stop=int(stop))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608
        f"SELECT {', '.join(expressions)} FROM ({series}) AS series_rows"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # always with params, so "%%" means "%" on both databases


def bulk_build(
    order_count: int,
    *,
    naming: BulkNaming,
    progress: Callable[[int, int], None] | None = None,
    batch: int | None = None,
) -> None:
    """ACCOUNTS accounts, then `order_count` orders with an authorization each, in batches
    (each its own transaction), then the sequences moved past the ids and the statistics."""
    from orderdesk.accounts.models import Account
    from orderdesk.orders.models import Order
    from orderdesk.payments.models import Authorization

    batch = batch or BATCH_ORDERS
    with transaction.atomic():
        insert_series(Account, account_columns(naming), 1, ACCOUNTS)
    for start in range(1, order_count + 1, batch):
        stop = min(order_count, start + batch - 1)
        with transaction.atomic():
            insert_series(Order, order_columns(naming), start, stop)
            insert_series(Authorization, authorization_columns(naming), start, stop)
        if progress:
            progress(stop, order_count)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in (Account, Order, Authorization):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
            # As autovacuum would, some time after a bulk load: the visibility map lets the
            # panel's counts read its indexes alone (VACUUM only outside a transaction).
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def _progress_bar(write: Callable[[str], None]) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        filled = round(30 * done / total)
        write(f"  [{'#' * filled}{'.' * (30 - filled)}] {done:,} / {total:,} orders")

    return show


def demo_bulk_load(*, order_count: int, write: Callable[[str], None] = print) -> int:
    """The large demo: the demo log-ins, then `order_count` orders by bulk SQL (idempotent:
    nothing is added once a bulk demo exists). Returns how many orders were made."""
    from orderdesk.accounts.models import Account
    from orderdesk.operations.demo import demo_staff_ensure
    from orderdesk.orders.models import Order
    from orderdesk.payments.models import Authorization

    demo_staff_ensure()
    naming = BulkNaming()
    if Order.objects.filter(number=f"{naming.number_prefix}1").exists():
        write("Bulk demo data already loaded; nothing added.")
        return 0
    naming = BulkNaming(
        order_base=_highest_id(Order),
        account_base=_highest_id(Account),
        authorization_base=_highest_id(Authorization),
    )
    bulk_build(order_count, naming=naming, progress=_progress_bar(write))
    return order_count


def _highest_id(model) -> int:
    return model.objects.aggregate(highest=Max("id"))["highest"] or 0
