"""Supervisor screens: log-in lockouts (and unlocking them). Thin: parse, call one service."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from orderdesk.dashboard.access import staff_required
from orderdesk.security import services


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
        messages.success(request, f"Unlocked the {lifted.label} {lifted.value}: it may log in again.")
    return redirect("security:lockouts")
