"""The staff log-in form: the password, then, for those who turned it on, a second factor."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django_otp import login as otp_login

from orderdesk.security.two_factor import SESSION_KEY, second_factor_check, two_factor_enabled


class StaffAuthenticationForm(AuthenticationForm):
    otp_token = forms.CharField(
        label="Authenticator code or recovery code",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="Only if you turned on two-factor log-in.",
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        self.otp_device = None
        self.two_factor = user is not None and two_factor_enabled(user)
        if self.two_factor:
            self.otp_device = second_factor_check(user, self.cleaned_data.get("otp_token", ""))
            if self.otp_device is None:
                raise forms.ValidationError(
                    "Enter the 6-digit code from your authenticator app, or one of your "
                    "recovery codes.",
                    code="otp_required",
                )
        return cleaned


class StaffLoginView(LoginView):
    authentication_form = StaffAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session[SESSION_KEY] = form.two_factor
        if form.otp_device is not None:
            otp_login(self.request, form.otp_device)
        return response
