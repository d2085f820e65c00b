"""Django's database cache with an increment that two processes cannot both win.

The stock DatabaseCache increments by reading and writing back, so two web processes counting
the same rate limit lose hits. Here the read and the write happen in one transaction holding
the row: `SELECT … FOR UPDATE` on PostgreSQL; on SQLite the transaction's `BEGIN IMMEDIATE`
(settings.DATABASES) already takes the database's write lock.
"""

from __future__ import annotations

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        made_key = self.make_and_validate_key(key, version=version)
        database = router.db_for_write(self.cache_model_class)
        connection = connections[database]
        with transaction.atomic(using=database):
            if connection.features.has_select_for_update:
                table = connection.ops.quote_name(self._table)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",  # noqa: S608 (the table name is a setting)
                        [made_key],
                    )
            return super().incr(key, delta, version)
