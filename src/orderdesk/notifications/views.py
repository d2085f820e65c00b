"""Staff-only page of recent e-mails: in the embedded set-up (console e-mail) it is where a
new user reads what customers were sent and clicks their links."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from orderdesk.notifications.models import OutboundEmail
from orderdesk.notifications.selectors import emails_recent

PERMISSION = "notifications.view_outboundemail"


@require_GET
@login_required
@permission_required(PERMISSION, raise_exception=True)
def email_list(request):
    return render(request, "notifications/email_list.html", {"emails": emails_recent()})


@require_GET
@login_required
@permission_required(PERMISSION, raise_exception=True)
def email_detail(request, pk: int):
    email = get_object_or_404(OutboundEmail.objects.select_related("order"), pk=pk)
    return render(request, "notifications/email_detail.html", {"email": email})
