"""One row inserted by a prepared statement whose text is built once per model.

The ORM compiles an INSERT anew for every `Model.objects.create()`; on the customer's
approval path (three timeline rows and the authorization) that compiling cost more than
the statements took to run. The values are prepared exactly as the ORM prepares them
(each field's `pre_save`, then `get_db_prep_save`), so defaults, `auto_now` and JSON
behave the same; save signals are not sent (the project registers none for these models).
"""

from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


def row_insert(instance: Model, using: str = DEFAULT_DB_ALIAS) -> Model:
    """INSERT `instance` (not saved yet) on the database `using` and set its primary key,
    as `save()` would."""
    connection = connections[using]
    if not connection.features.can_return_columns_from_insert:
        instance.save(force_insert=True, using=using)
        return instance
    fields = _fields(type(instance))
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(type(instance), connection.ops.quote_name), values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return instance


@cache
def _fields(model: type[Model]) -> tuple:
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key)


@cache
def _insert_sql(model: type[Model], quote) -> str:
    columns = ", ".join(quote(field.column) for field in _fields(model))
    marks = ", ".join(["%s"] * len(_fields(model)))
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608 (names from the model)
