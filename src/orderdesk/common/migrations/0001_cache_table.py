from django.core.management import call_command
from django.db import migrations


def cache_table_create(apps, schema_editor):
    # The database cache of settings.CACHES (rate limits): made with the other tables, so that
    # `migrate` (and the test database) needs no separate step. Idempotent; none with Redis.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []
    operations = [migrations.RunPython(cache_table_create, migrations.RunPython.noop)]
