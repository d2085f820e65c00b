"""Outgoing e-mail from EMAIL_URL, and the sender's address."""

import os

import dj_email_url

from orderdesk.config.environment import env_bool


def email_url_parse(url: str) -> dict:
    """dj-email-url plus the schemes it lacks: smtp+tls:// (STARTTLS), smtp+ssl:// (implicit
    TLS), and file:///absolute/path (it drops the leading slash)."""
    scheme, _, rest = url.partition("://")
    extra: dict = {}
    if scheme in ("smtp+tls", "smtp+ssl"):
        url = "smtp://" + rest
        extra = {"EMAIL_USE_TLS": True} if scheme == "smtp+tls" else {"EMAIL_USE_SSL": True}
    parsed = dj_email_url.parse(url)
    if scheme == "file":
        extra["EMAIL_FILE_PATH"] = "/" + rest.lstrip("/") if rest.startswith("/") else rest
    parsed.update(extra)
    return parsed


# E-mail: EMAIL_URL such as smtp://user:password@host:587, smtp+tls://..., console:
_email = email_url_parse(os.environ.get("EMAIL_URL", "console:"))
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"] or 20
if _email["EMAIL_FILE_PATH"]:
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
# The outbox keeps a delivered e-mail's payment links only where it is how staff read e-mail
# (the console default); a copy of a message sent to a real mailbox drops the link's token,
# so that the database holds no working payment link (links are stored hashed).
ORDERDESK_EMAIL_KEEP_LINKS = env_bool(
    "ORDERDESK_EMAIL_KEEP_LINKS", EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("ORDERDESK_FROM_EMAIL", "orders@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
