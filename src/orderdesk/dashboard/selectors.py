"""Read-side queries of the order screen (the unpaid panel's are in `orderdesk.unpaid`)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from orderdesk.orders.models import Order


def order_for_screen(number: str) -> Order:
    """The order with what its header needs, or 404."""
    return get_object_or_404(
        Order.objects.select_related("account", "assigned_to", "supersedes", "superseded_by"),
        number=number,
    )


def order_timeline(order: Order, *, limit: int = 200) -> list:
    """The newest timeline rows first, with who did them."""
    return list(order.events.select_related("actor").order_by("-created_at", "-id")[:limit])
