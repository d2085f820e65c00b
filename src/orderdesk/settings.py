"""Django settings for orderdesk.

Every setting a deployment changes comes from an environment variable (the README lists
them). Defaults give a working embedded set-up: SQLite under var/, e-mail to the console
and the sandbox gateway.
"""

import copy
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("ORDERDESK_VAR_DIR", Path.cwd() / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("ORDERDESK_DEBUG", False)
PRODUCTION = env_bool("ORDERDESK_PRODUCTION", False)
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

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'orderdesk.sqlite3'}"
# Connections are kept for a minute between requests (a new SQLite connection also runs
# the PRAGMAs below) and checked before reuse, so a restarted database costs one error-free
# reconnect.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the worker and the web server share the file; IMMEDIATE makes a
        # writing transaction take the lock up front instead of failing half-way.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }



def sandbox_database(default: dict) -> dict:
    """The sandbox gateway's ledger: its own connection, committing on its own, as a remote
    gateway's records do. ORDERDESK_SANDBOX_DATABASE_URL points it anywhere; by default it
    is a file beside SQLite's (SQLite has one writer per file), or the same PostgreSQL
    database reached over a second connection."""
    url = os.environ.get("ORDERDESK_SANDBOX_DATABASE_URL")
    if url:
        ledger = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    else:
        ledger = copy.deepcopy(default)
    if ledger["ENGINE"] == "django.db.backends.sqlite3" and not url:
        name = Path(default["NAME"])
        ledger["NAME"] = str(name.with_name(f"{name.stem}-sandbox{name.suffix}"))
    return ledger


DATABASES["sandbox"] = sandbox_database(DATABASES["default"])
DATABASE_ROUTERS = ["orderdesk.sandbox.routers.LedgerRouter"]

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

# The rate limits (django-ratelimit) and the log-in throttle count in this cache, shared by
# every web process: Django's database cache in the same database by default (its table is
# made by `orderdesk migrate`/`serve`), Redis when ORDERDESK_CACHE_URL says redis://...
ORDERDESK_CACHE_URL = os.environ.get("ORDERDESK_CACHE_URL", "")


def cache_from_url(url: str) -> dict:
    if not url or url.startswith("db:"):
        table = url.removeprefix("db:").lstrip("/") or "orderdesk_cache"
        return {"BACKEND": "orderdesk.common.cache.DatabaseCache", "LOCATION": table}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url.startswith("locmem:"):  # one process only: counts are not shared
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "orderdesk"}
    raise RuntimeError(
        f"ORDERDESK_CACHE_URL must be empty, db:TABLE, redis://host:port/db or locmem:, not {url!r}"
    )


CACHES = {"default": cache_from_url(ORDERDESK_CACHE_URL)}
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "orderdesk.common.views.rate_limited"
# django-ratelimit warns about any cache it does not list; the database cache here is
# orderdesk's own, whose increment is atomic (a row lock), and Django's Redis cache
# increments with INCR.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# The database backend by default (the queue is part of orderdesk's transactions); or,
# through the same Django Tasks API, "django_tasks_rq.RQBackend" on Redis. Either way the
# outbox rows are the truth and the worker's relay re-wakes any row whose task was lost.
TASK_BACKEND = os.environ.get("ORDERDESK_TASK_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {
    "default": {
        "BACKEND": TASK_BACKEND,
        "QUEUES": ["default", "email", "crm", "maintenance"],
    }
}
ORDERDESK_REDIS_URL = os.environ.get("ORDERDESK_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {queue: {"URL": ORDERDESK_REDIS_URL} for queue in TASKS["default"]["QUEUES"]}
if TASK_BACKEND.startswith("django_tasks_rq."):
    INSTALLED_APPS.append("django_rq")


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

# Business rules and identity.
ORDERDESK_BUSINESS_NAME = os.environ.get("ORDERDESK_BUSINESS_NAME", "Fixwell Repairs")
ORDERDESK_SUPPORT_EMAIL = os.environ.get("ORDERDESK_SUPPORT_EMAIL", "support@example.com")
ORDERDESK_SUPPORT_PHONE = os.environ.get("ORDERDESK_SUPPORT_PHONE", "+1 555 0100")
ORDERDESK_BASE_URL = os.environ.get("ORDERDESK_BASE_URL", "http://127.0.0.1:8000")
ORDERDESK_CURRENCY = os.environ.get("ORDERDESK_CURRENCY", "USD")
ORDERDESK_GATEWAY = os.environ.get("ORDERDESK_GATEWAY", "sandbox")
# A gateway per payment method, e.g. "card:stripe,paypal:paypal"; others use ORDERDESK_GATEWAY.
ORDERDESK_GATEWAYS = os.environ.get("ORDERDESK_GATEWAYS", "")
ORDERDESK_AUTHORIZATION_DAYS = int(os.environ.get("ORDERDESK_AUTHORIZATION_DAYS", "29"))
ORDERDESK_WARNING_DAYS = int(os.environ.get("ORDERDESK_WARNING_DAYS", "5"))
ORDERDESK_LINK_DAYS = int(os.environ.get("ORDERDESK_LINK_DAYS", "14"))
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
ORDERDESK_SWEEP_INTERVAL_SECONDS = int(os.environ.get("ORDERDESK_SWEEP_INTERVAL_SECONDS", "300"))
# A background task running longer than this is taken as lost with its worker: the outbox
# relay wakes its row again (deliveries are safe to repeat). Longer than any one delivery.
ORDERDESK_TASK_STALE_SECONDS = int(os.environ.get("ORDERDESK_TASK_STALE_SECONDS", "600"))
# Validity per gateway, method and card network, in the form
# "stripe:card=7,paypal:paypal=29+3,sandbox:card:amex=7" (days, optional +honor days).
ORDERDESK_AUTHORIZATION_POLICIES = os.environ.get("ORDERDESK_AUTHORIZATION_POLICIES", "")
ORDERDESK_SANDBOX = {
    "latency_ms": int(os.environ.get("ORDERDESK_SANDBOX_LATENCY_MS", "0")),
    "timeout_rate": float(os.environ.get("ORDERDESK_SANDBOX_TIMEOUT_RATE", "0")),
    "server_error_rate": float(os.environ.get("ORDERDESK_SANDBOX_SERVER_ERROR_RATE", "0")),
    # Per operation (authorize, capture, void, fetch), e.g. ORDERDESK_SANDBOX_CAPTURE_TIMEOUT_RATE:
    # what is set here wins over the three above for that operation.
    "operations": {
        operation: {
            key: cast(os.environ[f"ORDERDESK_SANDBOX_{operation.upper()}_{key.upper()}"])
            for key, cast in (("latency_ms", int), ("timeout_rate", float), ("server_error_rate", float))
            if f"ORDERDESK_SANDBOX_{operation.upper()}_{key.upper()}" in os.environ
        }
        for operation in ("authorize", "capture", "void", "fetch")
    },
}

# CRM delivery (crm.delivery): none (kept locally), webhook (Standard Webhooks) or salesforce.
ORDERDESK_CRM = os.environ.get("ORDERDESK_CRM", "none")
ORDERDESK_CRM_MAX_ATTEMPTS = int(os.environ.get("ORDERDESK_CRM_MAX_ATTEMPTS", "8"))
ORDERDESK_CRM_RETRY_SECONDS = int(os.environ.get("ORDERDESK_CRM_RETRY_SECONDS", "30"))
ORDERDESK_CRM_TIMEOUT_SECONDS = float(os.environ.get("ORDERDESK_CRM_TIMEOUT_SECONDS", "10"))
# How often the worker queues the changed orders' pictures for the CRM (crm.sync).
ORDERDESK_CRM_SYNC_INTERVAL_SECONDS = float(
    os.environ.get("ORDERDESK_CRM_SYNC_INTERVAL_SECONDS", "10")
)
ORDERDESK_CRM_WEBHOOK_URL = os.environ.get("ORDERDESK_CRM_WEBHOOK_URL", "")
ORDERDESK_CRM_WEBHOOK_SECRET = os.environ.get("ORDERDESK_CRM_WEBHOOK_SECRET", "")
ORDERDESK_SALESFORCE_INSTANCE_URL = os.environ.get("ORDERDESK_SALESFORCE_INSTANCE_URL", "")
ORDERDESK_SALESFORCE_ACCESS_TOKEN = os.environ.get("ORDERDESK_SALESFORCE_ACCESS_TOKEN", "")
ORDERDESK_SALESFORCE_USERNAME = os.environ.get("ORDERDESK_SALESFORCE_USERNAME", "")
ORDERDESK_SALESFORCE_PASSWORD = os.environ.get("ORDERDESK_SALESFORCE_PASSWORD", "")
ORDERDESK_SALESFORCE_SECURITY_TOKEN = os.environ.get("ORDERDESK_SALESFORCE_SECURITY_TOKEN", "")
ORDERDESK_SALESFORCE_DOMAIN = os.environ.get("ORDERDESK_SALESFORCE_DOMAIN", "login")
ORDERDESK_SALESFORCE_LOGIN_URL = os.environ.get("ORDERDESK_SALESFORCE_LOGIN_URL", "")
ORDERDESK_SALESFORCE_API_VERSION = os.environ.get("ORDERDESK_SALESFORCE_API_VERSION", "59.0")
ORDERDESK_SALESFORCE_ORDER_OBJECT = os.environ.get("ORDERDESK_SALESFORCE_ORDER_OBJECT", "Order__c")
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
_GATEWAYS_IN_USE = {ORDERDESK_GATEWAY} | {
    item.partition(":")[2].strip() for item in ORDERDESK_GATEWAYS.split(",") if item.strip()
}
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

# Logs: plain lines, or one JSON object a line with ORDERDESK_LOG_FORMAT=json; either way each
# line a request causes carries its id (X-Request-ID, taken from the proxy or made here).
ORDERDESK_LOG_FORMAT = os.environ.get("ORDERDESK_LOG_FORMAT", "plain")
if ORDERDESK_LOG_FORMAT not in ("plain", "json"):
    raise RuntimeError(f"ORDERDESK_LOG_FORMAT must be plain or json, not {ORDERDESK_LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "orderdesk.common.logs.RequestIdFilter"},
        "payment_tokens": {"()": "orderdesk.common.logs.PaymentTokenFilter"},
        "refusals": {"()": "orderdesk.common.logs.RefusalFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "orderdesk.common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": ORDERDESK_LOG_FORMAT,
            "filters": ["request_id", "payment_tokens", "refusals"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("ORDERDESK_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
