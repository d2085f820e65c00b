"""CRM adapters: one `deliver(message) -> Delivered` each, chosen by ORDERDESK_CRM."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from orderdesk.crm.adapters.base import CrmAdapter, CrmDeliveryError, Delivered

ADAPTERS = {
    "none": "orderdesk.crm.adapters.local.LocalAdapter",
    "webhook": "orderdesk.crm.adapters.webhook.WebhookAdapter",
    "salesforce": "orderdesk.crm.adapters.salesforce.SalesforceAdapter",
}


def adapter_get(name: str | None = None) -> CrmAdapter:
    name = (name or settings.ORDERDESK_CRM or "none").strip().lower()
    if name not in ADAPTERS:
        raise CrmDeliveryError(
            f"ORDERDESK_CRM={name!r} is not one of {', '.join(ADAPTERS)}", retryable=False
        )
    return import_string(ADAPTERS[name])()


__all__ = ["ADAPTERS", "CrmAdapter", "CrmDeliveryError", "Delivered", "adapter_get"]
