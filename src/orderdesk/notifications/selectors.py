from orderdesk.notifications.models import OutboundEmail


def emails_recent(*, limit: int = 50):
    return OutboundEmail.objects.select_related("order").order_by("-created_at", "-id")[:limit]


def emails_for_order(order, *, limit: int = 100):
    """The e-mails queued for an order, newest first."""
    return OutboundEmail.objects.filter(order=order).order_by("-created_at", "-id")[:limit]
