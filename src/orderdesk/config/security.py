"""Rate limits, the log-in lockout, production hardening, sessions, two-factor log-in and CSP."""

import os
from datetime import timedelta

from orderdesk.common.gateway_settings import gateway_items
from orderdesk.config.environment import PRODUCTION, env_bool
from orderdesk.config.gateways import ORDERDESK_GATEWAY, ORDERDESK_GATEWAYS

# Customer payment pages: requests per fixed window, per link and per client address.
ORDERDESK_LINK_RATE_WINDOW_SECONDS = int(
    os.environ.get("ORDERDESK_LINK_RATE_WINDOW_SECONDS", "600")
)
ORDERDESK_LINK_RATE_PER_TOKEN = int(os.environ.get("ORDERDESK_LINK_RATE_PER_TOKEN", "30"))
ORDERDESK_LINK_RATE_PER_ADDRESS = int(os.environ.get("ORDERDESK_LINK_RATE_PER_ADDRESS", "120"))
# Staff log-in (django-axes): after this many failures a user name, and separately a client
# address, is locked out for the cool-off time (or until a supervisor unlocks it).
ORDERDESK_LOGIN_FAILURE_LIMIT = int(os.environ.get("ORDERDESK_LOGIN_FAILURE_LIMIT", "5"))
ORDERDESK_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("ORDERDESK_LOGIN_LOCKOUT_MINUTES", "30"))
# Log-in posts per client address per window, whatever the user name (django-ratelimit).
ORDERDESK_LOGIN_RATE_PER_ADDRESS = int(os.environ.get("ORDERDESK_LOGIN_RATE_PER_ADDRESS", "30"))
# API: requests per client address per window, and failed API keys per address per window.
ORDERDESK_API_RATE_PER_ADDRESS = int(os.environ.get("ORDERDESK_API_RATE_PER_ADDRESS", "600"))
ORDERDESK_API_KEY_FAILURE_LIMIT = int(os.environ.get("ORDERDESK_API_KEY_FAILURE_LIMIT", "10"))
# The sandbox's card tokenization: requests per client address per window.
ORDERDESK_SANDBOX_TOKENIZE_RATE_PER_ADDRESS = int(
    os.environ.get("ORDERDESK_SANDBOX_TOKENIZE_RATE_PER_ADDRESS", "60")
)
# The window of the log-in, API and tokenization rate limits.
ORDERDESK_RATE_WINDOW_SECONDS = int(os.environ.get("ORDERDESK_RATE_WINDOW_SECONDS", "600"))
AXES_FAILURE_LIMIT = ORDERDESK_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=ORDERDESK_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# /metrics answers staff, or `Authorization: Bearer <token>` when this is set.
ORDERDESK_METRICS_TOKEN = os.environ.get("ORDERDESK_METRICS_TOKEN", "")

# Production hardening (manage.py check --deploy is clean with ORDERDESK_PRODUCTION=true).
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("ORDERDESK_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("ORDERDESK_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Two-factor log-in (django-otp, TOTP): any staff member may turn it on from their own page;
# with this setting, supervisors must, before they reach any staff page.
ORDERDESK_REQUIRE_2FA = env_bool("ORDERDESK_REQUIRE_2FA", False)
OTP_TOTP_ISSUER = os.environ.get("ORDERDESK_BUSINESS_NAME", "Fixwell Repairs") + " orderdesk"
# A staff session lasts a working day from log-in.
ORDERDESK_SESSION_HOURS = float(os.environ.get("ORDERDESK_SESSION_HOURS", "10"))
SESSION_COOKIE_AGE = int(ORDERDESK_SESSION_HOURS * 3600)

# Content-Security-Policy (django-csp) in every mode: no inline script or style anywhere,
# nothing may frame orderdesk. The PayPal gateway sends the customer's browser on to PayPal's
# approval page after the form post, so form-action names PayPal's hosts when it is in use.
_FORM_ACTION = ["'self'"]
_GATEWAYS_IN_USE = {ORDERDESK_GATEWAY} | {name for _, name in gateway_items(ORDERDESK_GATEWAYS)}
if "paypal" in _GATEWAYS_IN_USE:
    _FORM_ACTION += ["https://www.paypal.com", "https://www.sandbox.paypal.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": _FORM_ACTION,
        "frame-ancestors": ["'none'"],
    }
}
