"""Django's database cache with an increment that two processes cannot both win.

The stock DatabaseCache increments by reading and writing back, so two web processes counting
the same rate limit lose hits. Here the read and the write happen in one transaction holding
the row: `SELECT … FOR UPDATE` on PostgreSQL; on SQLite the transaction's `BEGIN IMMEDIATE`
(settings.DATABASES) already takes the database's write lock.

A rate limit (django-ratelimit) adds its counter, then increments it when the add finds it
there: on every request of a window but the first. The stock `add` finds out by trying the
insert in a write transaction, and the stock `incr` is a `get` and a `set` that counts the
whole table for culling; both held SQLite's write lock for nothing. Here `add` reads first
and writes only when the key is missing or expired, and `incr` reads the row and writes its
value, keeping its expiry (as Redis's INCR keeps a key's time to live).
"""

from __future__ import annotations

import base64
import pickle

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router, transaction
from django.utils.timezone import now


class DatabaseCache(DjangoDatabaseCache):
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        made_key = self.make_and_validate_key(key, version=version)
        connection = connections[router.db_for_write(self.cache_model_class)]
        read = "SELECT {expires} FROM {table} WHERE {key} = %s"
        with connection.cursor() as cursor:
            cursor.execute(self._sql(connection, read), [made_key])
            row = cursor.fetchone()
        if row is not None and _datetime(connection, row[0]) >= now().replace(microsecond=0):
            return False  # live: the stock add would try the insert and fail
        return self._base_set("add", made_key, value, timeout)

    def incr(self, key, delta=1, version=None):
        made_key = self.make_and_validate_key(key, version=version)
        database = router.db_for_write(self.cache_model_class)
        connection = connections[database]
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        # S608: the table's name is a setting, the rest constants.
        read = "SELECT {value}, {expires} FROM {table} WHERE {key} = %s" + lock  # noqa: S608
        write = "UPDATE {table} SET {value} = %s WHERE {key} = %s"
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute(self._sql(connection, read), [made_key])
            row = cursor.fetchone()
            if row is None or _datetime(connection, row[1]) < now():
                raise ValueError(f"Key '{key}' not found.")  # as the stock incr (expired: gone)
            stored = connection.ops.process_clob(row[0])
            counted = pickle.loads(base64.b64decode(stored.encode())) + delta  # noqa: S301 (our own rows)
            encoded = base64.b64encode(pickle.dumps(counted, self.pickle_protocol)).decode("latin1")
            cursor.execute(self._sql(connection, write), [encoded, made_key])
        return counted

    def _sql(self, connection, template: str) -> str:
        quote = connection.ops.quote_name
        names = {name: quote(name) for name in ("value", "expires")}
        return template.format(table=quote(self._table), key=quote("cache_key"), **names)


def _datetime(connection, value):
    """An `expires` value as the stock cache converts it (aware, on SQLite too)."""
    expression = models.Expression(output_field=models.DateTimeField())
    converters = connection.ops.get_db_converters(expression)
    for converter in converters + expression.get_db_converters(connection):
        value = converter(value, expression, connection)
    return value
