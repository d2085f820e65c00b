"""Build the benchmark data set with set-based SQL: accounts, orders and authorizations.

Every row is a pure function of its number n, so SQLite and PostgreSQL get the same data:

- n % 20 == 0 (5 %) is unpaid, spread by (n / 20) % 6 over failed, expired, awaiting
  customer, not authorized, awaiting price, and authorized but expiring within 5 days;
- n % 20 in 1..10 shipped and paid; 11..16 and 19 authorized and valid for 6 to 28 more
  days; 17 cancelled; 18 on terms and shipped.

Columns are listed from the models, so a column another app adds later gets its default.
"""

from __future__ import annotations

from django.db import connection

ACCOUNTS = 10_000


def _sql_dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "series": "SELECT n FROM generate_series(1, {count}) AS n",
            "at": "(now() + ({days}) * interval '1 day')",
            "date": "(current_date + ({days})::int)",
            "text": "({expression})::text",
        }
    return {
        "series": (
            "WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series "
            "WHERE n < {count}) SELECT n FROM series"
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


def order_columns() -> dict[str, str]:
    created = _at(f"-{CREATED_DAYS_AGO}")
    soon = _at("(n % 120) / 24.0")  # within 5 days
    later = _at("6 + (n % 22)")
    lapsed = _at("-(1 + n % 20)")
    total = "(1000 + (n * 37) % 50000)"
    return {
        "id": "n",
        "number": "'B' || " + _text("n"),
        "account_id": f"(1 + n % {ACCOUNTS})",
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
        "quoted_total": f"(CASE WHEN {BUCKET} = 0 AND {UNPAID} = 4 THEN 0 ELSE {total} END)",
        "total": f"(CASE WHEN {BUCKET} = 0 AND {UNPAID} = 4 THEN 0 ELSE {total} END)",
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
        "payment_expires_at": _case(
            ["NULL", lapsed, lapsed, "NULL", "NULL", soon],
            paid="NULL",
            live=later,
            cancelled="NULL",
            terms="NULL",
        ),
        "authorized_amount": _case(
            ["0", total, total, "0", "0", total], paid="0", live=total, cancelled="0", terms="0"
        ),
        "last_action": "'Order created'",
        "last_action_at": created,
    }


def authorization_columns() -> dict[str, str]:
    created = _at(f"-{CREATED_DAYS_AGO}")
    return {
        "id": "n",
        "order_id": "n",
        "gateway": "'sandbox'",
        "method": "(CASE WHEN n % 4 = 0 THEN 'paypal' ELSE 'card' END)",
        "gateway_reference": "'auth_' || " + _text("n"),
        "amount": "(1000 + (n * 37) % 50000)",
        "currency": "'USD'",
        "status": _case(
            ["'declined'", "'expired'", "'expired'", "'voided'", "'voided'", "'authorized'"],
            paid="'captured'",
            live="'authorized'",
            cancelled="'voided'",
            terms="'voided'",
        ),
        "authorized_at": created,
        "expires_at": order_columns()["payment_expires_at"].replace("NULL", _at("-1")),
        "card_brand": "'Visa'",
        "card_last4": "'4242'",
        "idempotency_key": "'auth-' || " + _text("n"),
        "source": "'storefront'",
        "created_at": created,
        "updated_at": created,
    }


def account_columns() -> dict[str, str]:
    return {
        "id": "n",
        "name": "'Bench customer ' || " + _text("n"),
        "ecommerce_email": "'bench' || " + _text("n") + " || '@example.com'",
        "phone": "'555-0100'",
        "crm_id": "''",
        "created_at": _at("-400"),
    }


def insert_series(model, columns: dict[str, str], count: int) -> None:
    """INSERT … SELECT over 1..count; columns not given get their model default."""
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
    series = _sql_dialect()["series"].format(count=int(count))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608
        f"SELECT {', '.join(expressions)} FROM ({series}) AS series_rows"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # always with params, so "%%" means "%" on both databases


def build(order_count: int) -> None:
    from orderdesk.accounts.models import Account
    from orderdesk.orders.models import Order
    from orderdesk.payments.models import Authorization

    insert_series(Account, account_columns(), ACCOUNTS)
    insert_series(Order, order_columns(), order_count)
    insert_series(Authorization, authorization_columns(), order_count)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Account, Order, Authorization):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
            # A real database is vacuumed and analyzed (autovacuum would, some time after a
            # bulk load): the visibility map lets the panel's counts read its indexes alone.
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
