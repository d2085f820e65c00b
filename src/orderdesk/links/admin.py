from django.contrib import admin

from orderdesk.common.admin import ReadOnlyAdmin
from orderdesk.links.models import PaymentLink


@admin.register(PaymentLink)
class PaymentLinkAdmin(ReadOnlyAdmin):
    list_display = ["order", "purpose", "amount", "status", "sent_to", "expires_at"]
    list_filter = ["purpose", "status"]
    exclude = ["token_hash"]
