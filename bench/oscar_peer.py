"""The peer row of `make bench`: django-oscar's dashboard order list at the same N orders.

Runs in its own virtualenv (django-oscar 4.2.1 on Django 5.2, never a dependency of
orderdesk), started by run.py with `--oscar-python`:

    python bench/oscar_peer.py --orders N --database-url URL

It builds N orders in Oscar's own tables with bulk SQL (5 % of them "Pending", the rest
"Being processed", "Complete" or "Cancelled"; guest orders without lines), logs in a staff
user and times `/dashboard/orders/?status=Pending` (50 a page) through Django's test client,
as section (e) times orderdesk's pages. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPEATS = 30


def database_settings(url: str, var: Path) -> dict:
    if url.startswith("sqlite"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url.split("///", 1)[1]}
    rest = url.split("://", 1)[1]
    credentials, _, location = rest.rpartition("@")
    host_port, _, name = location.partition("/")
    host, _, port = host_port.partition(":")
    user = credentials.split(":", 1)[0] or "postgres"
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": user,
        "HOST": host,
        "PORT": port or "5432",
    }


def configure(url: str, var: Path) -> None:
    from django.conf import settings
    from oscar import INSTALLED_APPS, defaults

    oscar_defaults = {key: getattr(defaults, key) for key in dir(defaults) if key.isupper()}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",  # noqa: S106 (a throwaway process)
        ALLOWED_HOSTS=["*"],
        DATABASES={"default": database_settings(url, var)},
        INSTALLED_APPS=INSTALLED_APPS,
        SITE_ID=1,
        ROOT_URLCONF=__name__,
        USE_TZ=True,
        TIME_ZONE="America/New_York",
        STATIC_URL="/static/",
        MEDIA_ROOT=str(var / "oscar-media"),
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "oscar.apps.basket.middleware.BasketMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                        "oscar.apps.search.context_processors.search_form",
                        "oscar.apps.checkout.context_processors.checkout",
                        "oscar.apps.communication.notifications.context_processors.notifications",
                        "oscar.core.context_processors.metadata",
                    ]
                },
            }
        ],
        HAYSTACK_CONNECTIONS={
            "default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}
        },
        LOGGING_CONFIG=None,
        **{
            **oscar_defaults,
            "OSCAR_DASHBOARD_ITEMS_PER_PAGE": 50,
            "OSCAR_ORDER_STATUS_PIPELINE": {
                "Pending": ("Being processed", "Cancelled"),
                "Being processed": ("Complete", "Cancelled"),
                "Complete": (),
                "Cancelled": (),
            },
        },
    )


def urls():
    from django.apps import apps
    from django.urls import include, path

    return [path("", include(apps.get_app_config("oscar").urls[0]))]


urlpatterns: list = []

STATUSES_SQL = (
    "CASE WHEN n %% 20 = 0 THEN 'Pending' WHEN n %% 20 < 8 THEN 'Being processed'"
    " WHEN n %% 20 < 18 THEN 'Complete' ELSE 'Cancelled' END"
)


def build(orders: int) -> None:
    """N orders in Oscar's order table in one INSERT … SELECT."""
    from django.db import connection

    columns = (
        "number, currency, total_incl_tax, total_excl_tax, shipping_incl_tax,"
        " shipping_excl_tax, shipping_method, shipping_code, status, guest_email,"
        " date_placed, analytics_tracked"
    )
    values = (
        "'O' || n, 'USD', (n %% 90000) / 100.0 + 10, (n %% 90000) / 100.0 + 10, 0, 0,"
        f" 'Standard', 'standard', {STATUSES_SQL}, 'guest' || (n %% 10000) || '@example.com',"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO order_order ({columns}) SELECT {values}"  # noqa: S608 (constants)
                " now() - (n || ' minutes')::interval, false"
                " FROM generate_series(1, %s) AS n",
                [orders],
            )
            cursor.execute("ANALYZE order_order")
        else:
            cursor.execute(
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s)"
                f" INSERT INTO order_order ({columns}) SELECT {values}"  # noqa: S608
                " datetime('now', '-' || n || ' minutes'), 0 FROM s",
                [orders],
            )
            cursor.execute("ANALYZE")


def measure() -> dict:
    from django.contrib.auth import get_user_model
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    # One connection for the whole run, as in orderdesk's measurement (the test client would
    # otherwise close it after each request and the queries would not be counted).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    staff = get_user_model().objects.create_superuser("bench-staff", "s@example.com", "x-pass-1")
    client = Client()
    client.force_login(staff)
    path = "/dashboard/orders/?status=Pending"
    for _ in range(3):
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "path": path,
        "queries": len(captured),
        "rows": response.content.count(b'name="selected_order"'),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    var = Path(os.environ.get("ORDERDESK_VAR_DIR", "var")) / "bench"
    var.mkdir(parents=True, exist_ok=True)
    configure(args.database_url, var)
    import django

    django.setup()
    urlpatterns.extend(urls())
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    import oscar

    started = time.perf_counter()
    build(args.orders)
    built = round(time.perf_counter() - started, 1)
    result = {"oscar": oscar.get_version(), "orders": args.orders, "build_seconds": built}
    result.update(measure())
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
