"""Model instances from rows read raw on the cursor, converted as the ORM converts them.

A raw query of a model (`Model.objects.raw`) works out anew, on every call, how its columns
map to fields and which converters apply; on the customer's approval, for one row each,
that cost more than running the statements. Here the fields are named by the caller and
their converters (on SQLite, a datetime made aware; a boolean from an integer) are looked
up once per connection.
"""

from __future__ import annotations

from functools import cache, lru_cache

from django.db import connection
from django.db.models import Model


@cache
def fields_of(model: type[Model], columns: tuple[str, ...]) -> tuple:
    """The primary key and `columns` (field names or attnames), in the model's order (as
    `Model.from_db` and `row_instance` take them)."""
    meta = model._meta
    wanted = {meta.pk, *(meta.get_field(name) for name in columns)}
    return tuple(field for field in meta.concrete_fields if field in wanted)


def row_values(fields, values) -> list:
    """`values`, read raw for `fields` (in that order), as the ORM would have them."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in _converters(field, connection.ops):
            value = converter(value, field.cached_col, connection)
        converted.append(value)
    return converted


def row_instance(model: type[Model], fields, values) -> Model:
    """The instance of a row of `model` read raw with `fields` (from `fields_of`); the
    model's other fields are deferred, as `.only()` leaves them."""
    attnames = [field.attname for field in fields]
    return model.from_db(connection.alias, attnames, row_values(fields, values))


@lru_cache(maxsize=1024)  # a handful of fields per connection (one per thread)
def _converters(field, operations) -> tuple:
    column = field.cached_col
    return (
        *operations.get_db_converters(column),
        *column.get_db_converters(operations.connection),
    )
