from django.contrib import admin

from orderdesk.api.models import ApiKey, IdempotencyRecord
from orderdesk.common.admin import ReadOnlyAdmin


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    exclude = ["secret_hash"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "operation", "user", "order", "response_status", "created_at"]
    search_fields = ["key"]
    exclude = ["request_hash", "response_body"]
