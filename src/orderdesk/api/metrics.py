"""/metrics in the Prometheus text format: a few cheap aggregate queries.

Staff sessions may read it, or a scraper with `Authorization: Bearer <ORDERDESK_METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from orderdesk.common.clock import now
from orderdesk.common.sql import status_in
from orderdesk.crm.models import CrmMessage
from orderdesk.orders.models import FINISHED_STATUSES, Order, PaymentState
from orderdesk.payments.models import Authorization, AuthorizationStatus
from orderdesk.payments.state import LIVE as LIVE_AUTHORIZATION
from orderdesk.unpaid.counts import unpaid_counts

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _allowed(request) -> bool:
    token = settings.ORDERDESK_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    user = request.user
    return user.is_authenticated and user.is_active and user.is_staff


def _metric(lines: list[str], name: str, kind: str, help_text: str, samples) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        label_text = ",".join(f'{key}="{label}"' for key, label in labels.items())
        lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")


def metrics_collect() -> str:
    moment = now()
    lines: list[str] = []
    # The statuses in literals, so that both databases count from the partial indexes.
    live_orders = Order.objects.filter(~status_in(FINISHED_STATUSES))
    by_state = dict(live_orders.values_list("payment_state").annotate(n=Count("id")).order_by())
    _metric(
        lines,
        "orderdesk_live_orders",
        "gauge",
        "Orders not shipped or cancelled, by payment state.",
        [({"payment_state": state}, by_state.get(state, 0)) for state in PaymentState.values],
    )
    unpaid = unpaid_counts(user=None, moment=moment)  # exactly the dashboard's counts
    _metric(
        lines,
        "orderdesk_unpaid_orders",
        "gauge",
        "Orders on the unpaid panel, by group.",
        [({"group": group}, count) for group, count in unpaid.items()],
    )
    expiring = Authorization.objects.filter(
        status_in(LIVE_AUTHORIZATION),
        expires_at__gt=moment,
        expires_at__lte=moment + timedelta(hours=24),
    ).count()
    _metric(
        lines,
        "orderdesk_authorizations_expiring_24h",
        "gauge",
        "Valid authorizations that expire within 24 hours.",
        [({}, expiring)],
    )
    unknown = Authorization.objects.filter(status_in([AuthorizationStatus.UNKNOWN])).count()
    _metric(
        lines,
        "orderdesk_authorizations_unknown",
        "gauge",
        "Authorizations whose outcome awaits reconciliation with the gateway.",
        [({}, unknown)],
    )
    crm = dict(CrmMessage.objects.values_list("status").annotate(n=Count("id")).order_by())
    _metric(
        lines,
        "orderdesk_crm_messages",
        "gauge",
        "CRM outbox messages by status (pending is the backlog).",
        [({"status": status}, crm.get(status, 0)) for status in ("pending", "delivered", "failed")],
    )
    _metric(
        lines,
        "orderdesk_tasks_pending",
        "gauge",
        "Background tasks waiting to run, by queue.",
        [({"queue": queue}, count) for queue, count in _tasks_pending()],
    )
    return "\n".join(lines) + "\n"


def _tasks_pending() -> list[tuple[str, int]]:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    counts = dict(
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .values_list("queue_name")
        .annotate(n=Count("id"))
        .order_by()
    )
    queues = settings.TASKS["default"].get("QUEUES") or sorted(counts)
    return [(queue, counts.get(queue, 0)) for queue in queues]


@never_cache
@require_GET
def metrics(request):
    if not _allowed(request):
        response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(metrics_collect(), content_type=CONTENT_TYPE)
