from django.contrib import admin

from orderdesk.accounts.models import Account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "ecommerce_email", "phone", "crm_id"]
    search_fields = ["name", "ecommerce_email", "crm_id"]
