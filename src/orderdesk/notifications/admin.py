from django.contrib import admin

from orderdesk.common.admin import ReadOnlyAdmin
from orderdesk.notifications.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["subject", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["to", "subject", "dedupe_key"]
