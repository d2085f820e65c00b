"""Row locks in one place, so every service takes them the same way.

On PostgreSQL `select_for_update` takes a row lock; SQLite ignores it, but there a
writing transaction (IMMEDIATE mode, see settings) already holds the database lock.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model, QuerySet


def lock_one(queryset: QuerySet, **lookup) -> Model:
    return queryset.select_for_update().get(**lookup)


def advisory_lock(key: int) -> None:
    """A transaction-scoped lock for work that must not run twice at once (the sweep)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
