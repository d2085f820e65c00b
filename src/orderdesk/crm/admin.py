from django.contrib import admin

from orderdesk.crm.models import CrmMessage


@admin.register(CrmMessage)
class CrmMessageAdmin(admin.ModelAdmin):
    """The CRM outbox, read-only: delivery and retries belong to the worker."""

    list_display = ["topic", "order", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["status", "topic"]
    search_fields = ["dedupe_key", "order__number", "remote_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
