from django.contrib import admin

from orderdesk.common.admin import ReadOnlyAdmin
from orderdesk.payments.models import Authorization, Capture, ExternalPayment


@admin.register(Authorization)
class AuthorizationAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "gateway",
        "amount",
        "currency",
        "status",
        "authorized_at",
        "expires_at",
    ]
    list_filter = ["status", "gateway", "method"]
    search_fields = ["order__number", "gateway_reference", "idempotency_key"]


@admin.register(Capture)
class CaptureAdmin(ReadOnlyAdmin):
    list_display = ["authorization", "amount", "currency", "captured_at"]


@admin.register(ExternalPayment)
class ExternalPaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "amount", "currency", "reference", "recorded_by", "recorded_at"]
