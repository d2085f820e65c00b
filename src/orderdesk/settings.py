"""Django settings for orderdesk (DJANGO_SETTINGS_MODULE=orderdesk.settings).

Every setting a deployment changes comes from an environment variable (the README lists
them). Defaults give a working embedded set-up: SQLite under var/, e-mail to the console
and the sandbox gateway. Django's own settings and the business rules are here; each other
concern is a module of `orderdesk.config`, gathered below.
"""

import os
from pathlib import Path

# Every name a group sets becomes a setting here by star import (the custom for settings
# split in modules: no name is listed twice); the names imported by name are what the
# settings below are made from.
from orderdesk.config.cache import *  # noqa: F403
from orderdesk.config.crm import *  # noqa: F403
from orderdesk.config.databases import *  # noqa: F403
from orderdesk.config.environment import *  # noqa: F403
from orderdesk.config.environment import PRODUCTION, VAR_DIR, env_bool, env_list
from orderdesk.config.gateways import *  # noqa: F403
from orderdesk.config.logs import *  # noqa: F403
from orderdesk.config.mail import *  # noqa: F403
from orderdesk.config.security import *  # noqa: F403
from orderdesk.config.tasks import *  # noqa: F403
from orderdesk.config.tasks import TASK_BACKEND

BASE_DIR = Path(__file__).resolve().parent

DEBUG = env_bool("ORDERDESK_DEBUG", False)
# A development key is fine for the embedded set-up; production refuses to start without one.
SECRET_KEY = os.environ.get("ORDERDESK_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("ORDERDESK_SECRET_KEY must be set in production")
    SECRET_KEY = "orderdesk-development-only-key-change-me-" + "x" * 30

ALLOWED_HOSTS = env_list("ORDERDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("ORDERDESK_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",  # serves /api/docs from its own static files (no CDN, no inline script)
    "django_tasks_db",
    "axes",
    "csp",
    "django_ratelimit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "orderdesk.common",
    "orderdesk.accounts",
    "orderdesk.orders",
    "orderdesk.payments",
    "orderdesk.sandbox",
    "orderdesk.links",
    "orderdesk.notifications",
    "orderdesk.crm",
    "orderdesk.dashboard",
    "orderdesk.api",
    "orderdesk.operations",
    "orderdesk.security",
]

MIDDLEWARE = [
    "orderdesk.common.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "orderdesk.common.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "orderdesk.security.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during log-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "orderdesk.urls"
WSGI_APPLICATION = "orderdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orderdesk.common.context_processors.business",
            ],
        },
    }
]

if TASK_BACKEND.startswith("django_tasks_rq."):
    INSTALLED_APPS.append("django_rq")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out user or address before the password is read.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
# Times are stored in UTC; the business time zone is what staff and customers read, in
# templates, e-mails and the timeline (Django converts on output).
TIME_ZONE = os.environ.get("ORDERDESK_TIME_ZONE", "America/New_York")
# Business time zone: used only to display times to staff and customers.

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Business rules and identity.
ORDERDESK_BUSINESS_NAME = os.environ.get("ORDERDESK_BUSINESS_NAME", "Fixwell Repairs")
ORDERDESK_SUPPORT_EMAIL = os.environ.get("ORDERDESK_SUPPORT_EMAIL", "support@example.com")
ORDERDESK_SUPPORT_PHONE = os.environ.get("ORDERDESK_SUPPORT_PHONE", "+1 555 0100")
ORDERDESK_BASE_URL = os.environ.get("ORDERDESK_BASE_URL", "http://127.0.0.1:8000")
ORDERDESK_CURRENCY = os.environ.get("ORDERDESK_CURRENCY", "USD")
ORDERDESK_AUTHORIZATION_DAYS = int(os.environ.get("ORDERDESK_AUTHORIZATION_DAYS", "29"))
ORDERDESK_WARNING_DAYS = int(os.environ.get("ORDERDESK_WARNING_DAYS", "5"))
ORDERDESK_LINK_DAYS = int(os.environ.get("ORDERDESK_LINK_DAYS", "14"))
ORDERDESK_SWEEP_INTERVAL_SECONDS = int(os.environ.get("ORDERDESK_SWEEP_INTERVAL_SECONDS", "300"))
# A background task running longer than this is taken as lost with its worker: the outbox
# relay wakes its row again (deliveries are safe to repeat). Longer than any one delivery.
ORDERDESK_TASK_STALE_SECONDS = int(os.environ.get("ORDERDESK_TASK_STALE_SECONDS", "600"))
# A void (or a capture's confirmation) the gateway did not answer is tried again after this
# many seconds, doubling per attempt up to 6 hours, until the gateway confirms.
ORDERDESK_GATEWAY_RETRY_SECONDS = int(os.environ.get("ORDERDESK_GATEWAY_RETRY_SECONDS", "30"))
