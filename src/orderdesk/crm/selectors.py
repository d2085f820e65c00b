"""Reads of the CRM outbox for the supervisors' screen."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, Value, When

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
