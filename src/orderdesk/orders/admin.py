from django.contrib import admin

from orderdesk.common.admin import ReadOnlyAdmin
from orderdesk.orders.models import Order, OrderEvent, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "account",
        "kind",
        "status",
        "payment_state",
        "total",
        "payment_expires_at",
    ]
    list_filter = ["status", "payment_state", "kind", "payment_method"]
    search_fields = ["number", "account__name", "account__ecommerce_email"]
    raw_id_fields = ["account", "supersedes", "assigned_to"]
    readonly_fields = [
        "payment_state",
        "payment_expires_at",
        "authorized_amount",
        "status",
        "total",
        "last_action",
        "last_action_at",
    ]
    inlines = [OrderLineInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "message", "created_at"]
    list_filter = ["kind"]
    search_fields = ["order__number"]
