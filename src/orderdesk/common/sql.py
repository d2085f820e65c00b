"""Conditions written with their values in the SQL, for partial indexes.

SQLite plans a statement before its parameters are bound, so it uses a partial index only
when the query states the index's condition in literals: with `status IN (?, ?)` it reads
the whole table. The values written this way are constants of the code (statuses), never
input, and are checked to be plain words.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import F, Q
from django.db.models.lookups import In


def sql_literals(values) -> str:
    """`'a', 'b'`: plain words (letters, digits, underscores) quoted for an SQL IN list."""
    for value in values:
        if not str(value).replace("_", "").isalnum():
            raise ValueError(f"not a plain status: {value!r}")
    return ", ".join(f"'{value}'" for value in values)


class InLiterals(In):
    """`column IN ('a', 'b')` with the values written into the SQL, not sent as parameters."""

    def as_sql(self, compiler, connection):
        column, params = self.process_lhs(compiler, connection)
        return f"{column} IN ({sql_literals(self.rhs)})", params


def status_in(values) -> Q:
    """`status IN (...)` in literals, as the partial indexes on status declare it."""
    return Q(InLiterals(F("status"), list(values)))


def compiled_timestamp_loader(cursor) -> None:
    """Parse this psycopg cursor's `timestamptz` values with psycopg's compiled loader.

    Django registers a pure-Python subclass of psycopg's loader on every connection (to set
    the connection's zone); for a cursor that reads many thousands of timestamps (the CSV
    export) parsing them was a third of the time. Django keeps the session's zone UTC, so
    psycopg's own loader gives the same instants, aware in UTC.
    """
    from psycopg.types.datetime import TimestamptzLoader

    # The adapters map swaps a psycopg loader for its compiled twin when it is installed.
    cursor.adapters.register_loader("timestamptz", TimestamptzLoader)


class IntegersInLiterals(In):
    """`column IN (1, 2)` with integers (ids a query just read) written into the SQL: any
    number of them (SQLite before 3.32 takes 999 parameters), without per-value handling."""

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        column, params = self.process_lhs(compiler, connection)
        return f"{column} IN ({', '.join(str(int(value)) for value in self.rhs)})", params


def ids_in(ids, field: str = "pk") -> Q:
    """`field IN (…)` with the ids in literals; no row matches an empty list."""
    return Q(IntegersInLiterals(F(field), sorted(ids)))
