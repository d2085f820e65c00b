from django.conf import settings
from django.db import migrations, models

# On PostgreSQL the number prefix's index becomes a B-tree of UPPER(number) in byte order:
# `number__istartswith` (UPPER(number::text) LIKE 'B12%') is then one range of it, read
# from the index alone, so the search lists a prefix's first live orders cheaply to choose
# how to find them (reading the rest only if few); a trigram index answers a short
# prefix only after reading every order holding its trigrams. order_panel_number_prefix
# makes a broad prefix one range per payment state of the panel, read from the index alone
# (on SQLite walking the panel's ranges and testing the number costs about as much).
LIVE = "NOT (status IN ('shipped', 'cancelled'))"

PREFIX_BTREE = (
    "CREATE INDEX order_number_prefix ON orders_order"
    f" ((UPPER(number::text)) text_pattern_ops) INCLUDE (number, id) WHERE {LIVE}"
)

PREFIX_TRIGRAM = (
    "CREATE INDEX order_number_prefix ON orders_order"
    f" USING gin ((UPPER(number::text)) gin_trgm_ops) WHERE {LIVE}"
)

PANEL_PREFIX = (
    "CREATE INDEX order_panel_number_prefix ON orders_order"
    " (payment_state, (UPPER(number::text)) text_pattern_ops)"
    f" INCLUDE (number, id, kind, assigned_to_id, account_id) WHERE {LIVE}"
)


def number_prefix_btree(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS order_number_prefix")
        schema_editor.execute(PREFIX_BTREE)
        schema_editor.execute(PANEL_PREFIX)


def number_prefix_trigram(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS order_panel_number_prefix")
        schema_editor.execute("DROP INDEX IF EXISTS order_number_prefix")
        schema_editor.execute(PREFIX_TRIGRAM)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('orders', '0009_panel_indexes_hold_sort_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='order',
            name='order_panel_by_account',
        ),
        migrations.RemoveIndex(
            model_name='order',
            name='order_payment_panel',
        ),
        migrations.RemoveIndex(
            model_name='order',
            name='order_delivery_risk',
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('status__in', ['shipped', 'cancelled']), _negated=True), fields=['payment_state', 'payment_expires_at', 'id', 'status', 'kind', 'assigned_to', 'total', 'number', 'estimated_delivery_date', 'last_action_at', 'account'], name='order_payment_panel'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('estimated_delivery_date__isnull', False), models.Q(('status__in', ['shipped', 'cancelled']), _negated=True)), fields=['payment_state', 'payment_expires_at', 'id', 'estimated_delivery_date', 'status', 'kind', 'assigned_to', 'total', 'number', 'last_action_at', 'account'], name='order_delivery_risk'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(condition=models.Q(('status__in', ['shipped', 'cancelled']), _negated=True), fields=['account', 'payment_state', 'payment_expires_at', 'id', 'estimated_delivery_date', 'status', 'kind', 'assigned_to'], name='order_panel_by_account'),
        ),
        migrations.RunPython(number_prefix_btree, number_prefix_trigram),
    ]
