"""Reads of the CRM outbox for the supervisors' screen."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Q, Value, When

from orderdesk.common.sql import status_in
from orderdesk.crm.models import CrmMessage, CrmMessageStatus


def crm_messages_troubled(*, limit: int = 500) -> list[CrmMessage]:
    """Messages given up, then those still retrying after a failure (the next try first):
    what a supervisor should look at. Read from the partial index of open messages."""
    failing = Q(status=CrmMessageStatus.FAILED) | (
        Q(status=CrmMessageStatus.PENDING) & ~Q(last_error="")
    )
    given_up_first = Case(
        When(status=CrmMessageStatus.FAILED, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return list(
        CrmMessage.objects.filter(status__in=[CrmMessageStatus.PENDING, CrmMessageStatus.FAILED])
        .filter(failing)
        .select_related("order")
        .order_by(given_up_first, "next_attempt_at", "pk")[:limit]
    )


OPEN_STATUSES = [CrmMessageStatus.PENDING, CrmMessageStatus.FAILED]


def crm_messages_open_counts() -> dict[str, int]:
    """Pending and failed messages, and the pending ones retrying after a failure, counted
    from the partial index of open messages (`crm_message_open`): the cost follows the
    backlog, never the delivered rows the table keeps."""
    retrying = Count("id", filter=~Q(last_error=""))
    rows = list(
        CrmMessage.objects.filter(status_in(OPEN_STATUSES))
        .values_list("status")
        .annotate(total=Count("id"), retrying=retrying)
        .order_by()
    )
    found = {status: total for status, total, _ in rows}
    found["retrying"] = sum(count for status, _, count in rows if status == "pending")
    return found
