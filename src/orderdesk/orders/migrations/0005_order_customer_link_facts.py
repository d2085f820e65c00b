from django.db import migrations, models


def record_link_facts(apps, schema_editor):
    """Each order's link facts, from its newest payment link (an open one is the newest)."""
    Order = apps.get_model("orders", "Order")
    PaymentLink = apps.get_model("links", "PaymentLink")
    newest = {}
    for link in PaymentLink.objects.order_by("order_id", "id").only(
        "order_id", "status", "completed_at"
    ):
        newest[link.order_id] = link
    for order_id, link in newest.items():
        Order.objects.filter(pk=order_id).update(
            customer_link_open=link.status == "open",
            price_declined_at=link.completed_at if link.status == "declined" else None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_unpaid_panel_filters_in_indexes"),
        ("links", "0002_paymentlink_processing_since"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="customer_link_open",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="order",
            name="price_declined_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the customer declined the newest price increase",
                null=True,
            ),
        ),
        migrations.RunPython(record_link_facts, migrations.RunPython.noop),
    ]
