"""Row locks in one place, so every service takes them the same way.

On PostgreSQL `select_for_update` takes a row lock; SQLite ignores it, but there a
writing transaction (IMMEDIATE mode, see settings) already holds the database lock.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model, QuerySet


def lock_one(queryset: QuerySet, **lookup) -> Model:
    return queryset.select_for_update().get(**lookup)


def lock_columns(model: type[Model], pk: int, columns: tuple[str, ...]) -> Model:
    """The row of `model` with primary key `pk`, locked as `lock_one` locks it, with only
    `columns` (field names or attnames) loaded and the others deferred. One raw statement,
    because compiling select_for_update().only().get() cost more than running it, on every
    customer's approval."""
    for_update = connection.features.has_select_for_update
    sql = _lock_columns_sql(model, columns, connection.ops.quote_name, for_update)
    for row in model.objects.raw(sql, [pk]):
        return row
    raise model.DoesNotExist(f"No {model._meta.object_name} with primary key {pk}.")


@cache
def _lock_columns_sql(model, columns, quote, for_update: bool) -> str:
    meta = model._meta
    names = ", ".join(quote(meta.get_field(name).column) for name in (meta.pk.name, *columns))
    lock = " FOR UPDATE" if for_update else ""
    return f"SELECT {names} FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s{lock}"  # noqa: S608 (names from the model)


def advisory_lock(key: int) -> None:
    """A transaction-scoped lock for work that must not run twice at once (the sweep)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
