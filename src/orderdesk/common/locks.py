"""Row locks in one place, so every service takes them the same way.

On PostgreSQL `select_for_update` takes a row lock; SQLite ignores it, but there a
writing transaction (IMMEDIATE mode, see settings) already holds the database lock.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model, QuerySet

from orderdesk.common.rows import fields_of, row_instance


def lock_one(queryset: QuerySet, **lookup) -> Model:
    return queryset.select_for_update().get(**lookup)


def lock_columns(model: type[Model], pk: int, columns: tuple[str, ...]) -> Model:
    """The row of `model` with primary key `pk`, locked as `lock_one` locks it, with only
    `columns` (field names or attnames) loaded and the others deferred. One raw statement,
    because compiling select_for_update().only().get() cost more than running it, on every
    customer's approval."""
    fields = fields_of(model, columns)
    sql = _lock_sql(model, fields, None, (), connection.ops.quote_name, _for_update())
    row = _row(sql, pk, model)
    return row_instance(model, fields, row)


def lock_with_related(
    model: type[Model], pk: int, related: str, related_columns: tuple[str, ...]
) -> Model:
    """The row of `model` with primary key `pk` (every column) and the row its foreign key
    `related` points to, joined and locked with it as
    `lock_one(model.objects.select_related(related), pk=pk)` locks both; the related
    instance has only `related_columns` loaded, the others deferred. One raw statement, for
    the reason `lock_columns` gives."""
    fields = model._meta.concrete_fields
    other = model._meta.get_field(related).related_model
    other_fields = fields_of(other, related_columns)
    quote = connection.ops.quote_name
    sql = _lock_sql(model, fields, related, other_fields, quote, _for_update())
    row = _row(sql, pk, model)
    instance = row_instance(model, fields, row[: len(fields)])
    setattr(instance, related, row_instance(other, other_fields, row[len(fields) :]))
    return instance


def _for_update() -> bool:
    return connection.features.has_select_for_update


def _row(sql: str, pk: int, model: type[Model]) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"No {model._meta.object_name} with primary key {pk}.")
    return row


@cache
def _lock_sql(model, fields: tuple, related: str | None, related_fields: tuple, quote, lock: bool):
    meta = model._meta
    names = [f"t.{quote(field.column)}" for field in fields]
    names += [f"r.{quote(field.column)}" for field in related_fields]
    tables = f"{quote(meta.db_table)} t"
    if related:
        foreign_key = meta.get_field(related)
        other = foreign_key.related_model._meta
        tables += (
            f" INNER JOIN {quote(other.db_table)} r "
            f"ON t.{quote(foreign_key.column)} = r.{quote(other.pk.column)}"
        )
    where = f" WHERE t.{quote(meta.pk.column)} = %s{' FOR UPDATE' if lock else ''}"
    return f"SELECT {', '.join(names)} FROM {tables}{where}"  # noqa: S608 (names from the model)


def advisory_lock(key: int) -> None:
    """A transaction-scoped lock for work that must not run twice at once (the sweep)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
