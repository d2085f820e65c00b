from django.contrib import admin

from orderdesk.security.models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: the audit record cannot be edited or deleted, here or anywhere."""

    list_display = ("created_at", "kind", "username", "ip_address", "actor", "reason")
    list_filter = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
