"""Staff pages ask for the second factor: a user with two-factor log-in on must have passed
it in this session; with ORDERDESK_REQUIRE_2FA a supervisor without it must turn it on first."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from orderdesk.security.two_factor import two_factor_enabled_for_session, two_factor_required

# Pages a half-logged-in person may still reach: logging in and out, enrolment, and what is
# not a staff page (customer links, the sandbox, health, static files, the API's own keys).
OPEN_PREFIXES = (
    "/login/",
    "/logout/",
    "/security/two-factor/",
    "/pay/",
    "/sandbox/",
    "/healthz",
    "/static/",
    "/api/",
)


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff
            and not user.is_verified()
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            enabled = two_factor_enabled_for_session(request)
            if enabled:
                logout(request)
                return redirect_to_login(request.get_full_path())
            if two_factor_required(user, required_for_supervisors=settings.ORDERDESK_REQUIRE_2FA):
                messages.warning(request, "Supervisors must turn on two-factor log-in first.")
                return redirect("security:two-factor")
        return self.get_response(request)
