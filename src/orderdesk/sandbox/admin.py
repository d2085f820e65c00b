from django.contrib import admin

from orderdesk.common.admin import ReadOnlyAdmin
from orderdesk.sandbox.models import SandboxTransaction


@admin.register(SandboxTransaction)
class SandboxTransactionAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "status", "amount", "currency", "created_at"]
    list_filter = ["kind", "status"]
