"""Two-factor log-in for staff (django-otp): an authenticator app (TOTP) and recovery codes.

Enrolment is the staff member's own: a secret is made, shown once as a key and an otpauth://
address for the app, and confirmed with a first code; ten one-use recovery codes are made
with it and shown once.
"""

from __future__ import annotations

from base64 import b32encode

from django.db import transaction
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from orderdesk.accounts.roles import SUPERVISOR

AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"
RECOVERY_CODE_COUNT = 10


class TwoFactorRefused(Exception):
    """A code that does not match, or a step out of order; the message says which."""


SESSION_KEY = "orderdesk_two_factor"


def two_factor_enabled(user) -> bool:
    # Recovery codes exist only beside a confirmed authenticator: one query answers.
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_enabled_for_session(request) -> bool:
    """Known at log-in (the log-in form and enrolment note it in the session); a session made
    otherwise (the admin's log-in) asks the database once and notes the answer, as log-in
    would have: a staff page then asks nothing more."""
    known = request.session.get(SESSION_KEY)
    if known is None:
        known = request.session[SESSION_KEY] = two_factor_enabled(request.user)
    return known


def two_factor_required(user, *, required_for_supervisors: bool) -> bool:
    """Supervisors (and superusers) must use it when the setting says so."""
    if not required_for_supervisors:
        return False
    return user.is_superuser or user.groups.filter(name=SUPERVISOR).exists()


@transaction.atomic
def two_factor_enrolment_start(*, user) -> TOTPDevice:
    """The unconfirmed authenticator of an enrolment under way (made once, then reused)."""
    if two_factor_enabled(user):
        raise TwoFactorRefused("Two-factor log-in is already on.")
    device = TOTPDevice.objects.filter(user=user, name=AUTHENTICATOR, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR, confirmed=False)


def authenticator_key(device: TOTPDevice) -> str:
    """The secret as an authenticator app takes it typed in: base32, in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[index : index + 4] for index in range(0, len(text), 4))


def _recovery_codes_make(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY)
    device.confirmed = True
    device.save()
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_enrolment_confirm(*, user, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator with its first code; returns it and the new recovery codes."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, name=AUTHENTICATOR, confirmed=False)
        .first()
    )
    if device is None:
        raise TwoFactorRefused("Start again: there is no enrolment under way.")
    if not device.verify_token(token.strip().replace(" ", "")):
        raise TwoFactorRefused(
            "That code does not match. Enter the 6-digit code your app shows now."
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, _recovery_codes_make(user)


@transaction.atomic
def recovery_codes_renew(*, user, token: str) -> list[str]:
    """New recovery codes (the old ones stop working), confirmed with a current code."""
    if not two_factor_enabled(user):
        raise TwoFactorRefused("Turn on two-factor log-in first.")
    if match_token(user, token.strip().replace(" ", "")) is None:
        raise TwoFactorRefused("That code does not match.")
    return _recovery_codes_make(user)


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count()


def second_factor_check(user, token: str):
    """The device a log-in code belongs to (an authenticator code or a recovery code, which
    is then used up), or None."""
    token = (token or "").strip().replace(" ", "")
    return match_token(user, token) if token else None
