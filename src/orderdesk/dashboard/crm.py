"""The supervisors' CRM screen: messages that failed or keep failing, and their retry."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from orderdesk.common.errors import BusinessRuleError
from orderdesk.crm.models import CrmMessage
from orderdesk.crm.selectors import crm_messages_troubled
from orderdesk.crm.services import RETRY_PERMISSION, crm_message_retry
from orderdesk.dashboard.access import staff_required

SCREEN_ROWS = 500


@require_GET
@staff_required("crm.view_crmmessage")
def crm_failures(request):
    rows = crm_messages_troubled(limit=SCREEN_ROWS + 1)
    context = {"rows": rows[:SCREEN_ROWS], "more": len(rows) > SCREEN_ROWS}
    return render(request, "dashboard/crm.html", context)


@require_POST
@staff_required("crm.view_crmmessage", RETRY_PERMISSION)
def crm_retry(request, message_id: int):
    message = get_object_or_404(CrmMessage, pk=message_id)
    try:
        sent = crm_message_retry(message_id=message.pk, actor=request.user)
    except BusinessRuleError as refusal:
        messages.error(request, refusal.reason)
    else:
        about = f" for order {sent.order.number}" if sent.order_id else ""
        messages.success(request, f"CRM message {sent.topic}{about} will be sent again now.")
    return redirect("dashboard:crm")
