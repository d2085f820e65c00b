from orderdesk.notifications.models import OutboundEmail


def emails_recent(*, limit: int = 50):
    return OutboundEmail.objects.select_related("order").order_by("-created_at", "-id")[:limit]
