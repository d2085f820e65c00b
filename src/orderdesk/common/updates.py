"""One row updated by a prepared statement whose text is built once per shape.

`QuerySet.update()` and `save(update_fields=...)` compile their UPDATE anew on every call;
on the customer's approval every one of them ran inside the write transaction, where on
SQLite the compiling held the database's write lock from every other request. The values
are prepared as the ORM prepares them (a related instance becomes its key, then each
field's `get_db_prep_save`); save signals are not sent (the project registers none for
the models written this way).
"""

from __future__ import annotations

from functools import cache

from django.db import DatabaseError, connection
from django.db.models import Model


def row_update(
    model: type[Model],
    pk,
    values: dict,
    *,
    expected: dict | None = None,
    sql_values: dict[str, tuple[str, list]] | None = None,
) -> int:
    """UPDATE the row of `model` with primary key `pk`, as
    `model.objects.filter(pk=pk, **expected).update(**values)` would. `expected` makes it a
    compare-and-set; `sql_values` sets columns to SQL expressions of the code (constant
    text, values bound as parameters). Returns the number of rows updated (0 or 1)."""
    expected, sql_values = expected or {}, sql_values or {}
    shape = (
        tuple(values),
        tuple((name, value is None) for name, value in expected.items()),
        tuple((name, sql) for name, (sql, _) in sql_values.items()),
    )
    statement = _update_sql(model, shape, connection.ops.quote_name)
    parameters = [_prepared(model, name, value) for name, value in values.items()]
    for _, params in sql_values.values():
        parameters.extend(params)
    parameters.append(_prepared(model, model._meta.pk.name, pk))
    parameters.extend(
        _prepared(model, name, value) for name, value in expected.items() if value is not None
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        return cursor.rowcount


def instance_update(instance: Model, fields: tuple[str, ...] | list[str]) -> None:
    """Write `fields` of a saved instance, as `save(update_fields=fields)` does (each field's
    `pre_save`, so `auto_now` columns take the time); raises as it does when no row matched."""
    meta = type(instance)._meta
    values = {name: meta.get_field(name).pre_save(instance, False) for name in fields}
    if not row_update(type(instance), instance.pk, values):
        raise DatabaseError("Save with update_fields did not affect any rows.")


def _prepared(model: type[Model], name: str, value):
    field = model._meta.get_field(name)
    if hasattr(value, "resolve_expression"):  # F(), Case(): the caller's SQL, in sql_values
        raise TypeError(f"row_update sets {name} to a value, not to {value!r}")
    if isinstance(value, Model):  # a related instance: its key, as update() takes it
        value = value.prepare_database_save(field)
    return field.get_db_prep_save(value, connection)


@cache
def _update_sql(model: type[Model], shape: tuple, quote) -> str:
    names, expected, sql_values = shape
    meta = model._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    assignments = [f"{column(name)} = %s" for name in names]
    assignments += [f"{column(name)} = {sql}" for name, sql in sql_values]
    conditions = [f"{quote(meta.pk.column)} = %s"]
    conditions += [f"{column(name)} {'IS NULL' if null else '= %s'}" for name, null in expected]
    return (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608 (names from the model)
        f"WHERE {' AND '.join(conditions)}"
    )
