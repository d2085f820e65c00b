"""Supervisor screens: log-in lockouts (and unlocking them). Thin: parse, call one service."""

from __future__ import annotations

import csv
import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from orderdesk.api import keys as api_keys_service
from orderdesk.api.models import ApiKey
from orderdesk.common.spreadsheet import spreadsheet_safe
from orderdesk.dashboard.access import staff_required
from orderdesk.security import audit, services
from orderdesk.security import two_factor as otp

AUDIT_PERMISSION = "security.view_audit"
SCREEN_ROWS = 500


class UnlockForm(forms.Form):
    locked_by = forms.ChoiceField(choices=list(services.LOCKED_BY.items()))
    value = forms.CharField(max_length=150)
    reason = forms.CharField(max_length=500, required=False)


@require_GET
@staff_required(services.UNLOCK_PERMISSION)
def lockouts(request):
    context = {
        "lockouts": services.lockouts_current(),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "security/lockouts.html", context)


@require_POST
@staff_required(services.UNLOCK_PERMISSION)
def unlock(request):
    form = UnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a lockout to lift.")
        return redirect("security:lockouts")
    data = form.cleaned_data
    lifted = services.lockout_unlock(
        locked_by=data["locked_by"], value=data["value"], actor=request.user, reason=data["reason"]
    )
    if lifted is None:
        messages.info(request, f"{data['value']} was no longer locked out.")
    else:
        messages.success(
            request, f"Unlocked the {lifted.label} {lifted.value}: it may log in again."
        )
    return redirect("security:lockouts")


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action"), *audit.ACTIONS.items()], required=False)
    who = forms.CharField(max_length=150, required=False, label="Who (user name)")
    order = forms.CharField(max_length=40, required=False, label="Order number")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The first day comes after the last day.")
        return data

    def filters(self) -> audit.AuditFilters | None:
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return audit.AuditFilters(
            action=data["action"],
            who=data["who"].strip(),
            order=data["order"].strip(),
            since=data["since"],
            until=data["until"],
        )


class _Echo:
    def write(self, value):
        return value


def _audit_csv(entries):
    writer = csv.writer(_Echo())
    yield writer.writerow(["When", "Who", "Action", "Subject", "What", "Why"])
    for entry in entries:
        row = [
            timezone.localtime(entry.at).isoformat(timespec="seconds"),
            entry.who,
            entry.action_label,
            entry.subject,
            entry.what,
            entry.why,
        ]
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])


def _audit_json(entries):
    yield "["
    for index, entry in enumerate(entries):
        yield ("," if index else "") + json.dumps(entry.as_dict(), ensure_ascii=False)
    yield "]"


@require_GET
@staff_required(AUDIT_PERMISSION)
def audit_screen(request):
    """Who did what, when and why, with filters; `?format=csv|json` exports every match."""
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if request.GET else audit.AuditFilters()
    export = request.GET.get("format", "")
    if filters is None:
        return render(request, "security/audit.html", {"form": form, "entries": []}, status=400)
    if export in ("csv", "json"):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        body = _audit_csv if export == "csv" else _audit_json
        content_type = "text/csv; charset=utf-8" if export == "csv" else "application/json"
        response = StreamingHttpResponse(
            body(audit.audit_entries(filters)), content_type=content_type
        )
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{export}"'
        return response
    entries = audit.audit_entries(filters, limit=SCREEN_ROWS + 1)
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "form": form,
        "entries": entries[:SCREEN_ROWS],
        "more": len(entries) > SCREEN_ROWS,
        "query": query.urlencode(),
    }
    return render(request, "security/audit.html", context)


@require_GET
@staff_required("api.view_apikey")
def api_keys(request):
    """Every API key: who it acts as, its scope, created, last used, revoked."""
    return render(request, "security/api_keys.html", {"keys": api_keys_service.api_keys_list()})


@require_POST
@staff_required("api.change_apikey")
def api_key_revoke(request):
    prefix = request.POST.get("prefix", "")[:16]
    try:
        api_key = api_keys_service.api_key_revoke(prefix=prefix)
    except ApiKey.DoesNotExist:
        messages.error(request, "No such API key.")
    else:
        messages.success(request, f"API key {api_key.name} ({api_key.prefix}) is revoked.")
    return redirect("security:api-keys")


class CodeForm(forms.Form):
    token = forms.CharField(max_length=20, label="Code from your authenticator app")


@require_http_methods(["GET", "POST"])
@login_required
def two_factor(request):
    """The staff member's own two-factor page: turn it on, or renew the recovery codes."""
    if not request.user.is_staff:
        raise PermissionDenied("Staff only.")
    user = request.user
    context = {"enabled": otp.two_factor_enabled(user), "form": CodeForm(request.POST or None)}
    if request.method == "POST" and context["form"].is_valid():
        token = context["form"].cleaned_data["token"]
        try:
            if context["enabled"]:
                codes = otp.recovery_codes_renew(user=user, token=token)
                messages.success(request, "New recovery codes: the old ones no longer work.")
            else:
                device, codes = otp.two_factor_enrolment_confirm(user=user, token=token)
                otp_login(request, device)
                request.session[otp.SESSION_KEY] = True
                messages.success(request, "Two-factor log-in is on.")
        except otp.TwoFactorRefused as refusal:
            context["form"].add_error("token", str(refusal))
        else:
            return render(request, "security/recovery_codes.html", {"codes": codes})
    if context["enabled"]:
        context["codes_left"] = otp.recovery_codes_left(user)
    else:
        device = otp.two_factor_enrolment_start(user=user)
        context.update(key=otp.authenticator_key(device), config_url=device.config_url)
    status = 400 if request.method == "POST" else 200
    return render(request, "security/two_factor.html", context, status=status)
