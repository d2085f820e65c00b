"""Staff-only page of recent e-mails: in the embedded set-up (console e-mail) it is where a
new user reads what customers were sent and clicks their links."""

from csp.decorators import csp
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
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


# An e-mail's HTML as the customer's mail program shows it, for the frame of the detail page:
# e-mail needs inline styles, so this document alone allows them; it runs no script, loads
# nothing and may be framed by orderdesk's own pages only.
@require_GET
@login_required
@permission_required(PERMISSION, raise_exception=True)
@xframe_options_sameorigin
@csp(
    {
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
    }
)
def email_html(request, pk: int):
    email = get_object_or_404(OutboundEmail, pk=pk)
    if not email.body_html:
        raise Http404("this e-mail has no HTML part")
    return HttpResponse(email.body_html, content_type="text/html; charset=utf-8")
