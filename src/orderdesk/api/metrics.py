"""/metrics in the Prometheus text format (prometheus-client's collector and exposition):
a few cheap aggregate queries per scrape.

Staff sessions may read it, or a scraper with `Authorization: Bearer <ORDERDESK_METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orderdesk.common.clock import now
from orderdesk.common.outbox import stale_after
from orderdesk.common.sql import status_in
from orderdesk.crm.models import CrmMessage, CrmMessageStatus
from orderdesk.crm.selectors import crm_messages_open_counts
from orderdesk.notifications.models import EmailStatus, OutboundEmail
from orderdesk.payments.models import (
    Authorization,
    AuthorizationStatus,
    GatewayEvent,
    GatewayEventOutcome,
    GatewayStep,
    StepKind,
    StepStatus,
)
from orderdesk.payments.state import LIVE as LIVE_AUTHORIZATION
from orderdesk.unpaid.counts import unpaid_counts
from orderdesk.unpaid.figures import live_orders_by_payment_state


def _allowed(request) -> bool:
    token = settings.ORDERDESK_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    user = request.user
    return user.is_authenticated and user.is_active and user.is_staff


def _gauge(name: str, help_text: str, samples, label: str | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=[label] if label else None)
    for key, value in samples:
        family.add_metric([key] if label else [], value)
    return family


def _live_orders_by_state(moment):
    census = live_orders_by_payment_state()  # counted at most once a minute
    by_state = _gauge(
        "orderdesk_live_orders",
        "Orders not shipped or cancelled, by payment state, as counted at "
        "orderdesk_live_orders_as_of_timestamp_seconds.",
        census.by_payment_state.items(),
        "payment_state",
    )
    as_of = _gauge(
        "orderdesk_live_orders_as_of_timestamp_seconds",
        "When orderdesk_live_orders was counted (Unix time; at most a minute ago).",
        [(None, census.as_of.timestamp())],
    )
    return by_state, as_of


def _unpaid_by_group(moment):
    unpaid = unpaid_counts(user=None, moment=moment)  # exactly the dashboard's counts
    return _gauge(
        "orderdesk_unpaid_orders", "Orders on the unpaid panel, by group.", unpaid.items(), "group"
    )


def _authorizations_expiring(moment):
    expiring = Authorization.objects.filter(
        status_in(LIVE_AUTHORIZATION),
        expires_at__gt=moment,
        expires_at__lte=moment + timedelta(hours=24),
    ).count()
    return _gauge(
        "orderdesk_authorizations_expiring_24h",
        "Valid authorizations that expire within 24 hours.",
        [(None, expiring)],
    )


def _authorizations_unknown(moment):
    unknown = Authorization.objects.filter(status_in([AuthorizationStatus.UNKNOWN])).count()
    return _gauge(
        "orderdesk_authorizations_unknown",
        "Authorizations whose outcome awaits reconciliation with the gateway.",
        [(None, unknown)],
    )


def _holds_awaiting_release(moment):
    # From the partial index gateway_step_open.
    voids = GatewayStep.objects.filter(
        status_in([StepStatus.PENDING, StepStatus.UNKNOWN]), kind=StepKind.VOID
    ).count()
    return _gauge(
        "orderdesk_holds_awaiting_release",
        "Holds orderdesk has decided to void that the gateway has not confirmed released.",
        [(None, voids)],
    )


def _browser_holds_unrecorded(moment):
    # From the partial index gateway_event_unrecorded: holds confirmed in a browser that
    # the worker has yet to record or release (links.services.browser_holds_adopt).
    waiting = GatewayEvent.objects.filter(outcome=GatewayEventOutcome.UNRECORDED_HOLD).count()
    return _gauge(
        "orderdesk_browser_holds_unrecorded",
        "Holds confirmed in a browser, told of by the gateway, not recorded yet.",
        [(None, waiting)],
    )


def _gateway_steps_stuck(moment):
    """Captures and voids whose answer is unknown, and pending ones overdue (due for longer
    than a task may run: the relay or reconciliation will take them up)."""
    open_steps = GatewayStep.objects.filter(status_in([StepStatus.PENDING, StepStatus.UNKNOWN]))
    cutoff = moment - stale_after()
    overdue = open_steps.filter(status=StepStatus.PENDING).filter(
        Q(next_attempt_at__lte=cutoff) | Q(next_attempt_at__isnull=True, created_at__lte=cutoff)
    )
    unknown = open_steps.filter(status=StepStatus.UNKNOWN)
    by_state = {
        state: dict(rows.values_list("kind").annotate(n=Count("id")).order_by())
        for state, rows in (("unknown", unknown), ("overdue", overdue))
    }
    samples = [
        ((kind, state), found.get(kind, 0))
        for state, found in by_state.items()
        for kind in StepKind.values
    ]
    family = GaugeMetricFamily(
        "orderdesk_gateway_steps_stuck",
        "Capture and void steps awaiting reconciliation (unknown) or overdue, by kind.",
        labels=["kind", "state"],
    )
    for labels, value in samples:
        family.add_metric(list(labels), value)
    return family


def _crm_messages(moment):
    # Only the open messages, from their partial index: the table keeps one delivered row
    # per picture sent, which no scrape should count.
    found = crm_messages_open_counts()
    samples = [(status, found.get(status, 0)) for status in ("pending", "retrying", "failed")]
    return _gauge(
        "orderdesk_crm_messages",
        "Open CRM outbox messages: pending (the backlog, retrying included), retrying "
        "(pending after a failure) and failed (given up).",
        samples,
        "status",
    )


def _tasks_pending(moment):
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    found = dict(
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .values_list("queue_name")
        .annotate(n=Count("id"))
        .order_by()
    )
    queues = settings.TASKS["default"].get("QUEUES") or sorted(found)
    return _gauge(
        "orderdesk_tasks_pending",
        "Background tasks waiting to run, by queue.",
        [(queue, found.get(queue, 0)) for queue in queues],
        "queue",
    )


def _outbox_overdue(moment):
    """Rows due for longer than a task may run: their delivery is stuck, not just queued."""
    cutoff = moment - stale_after()

    def overdue(model, pending):
        rows = model.objects.filter(status=pending).exclude(next_attempt_at__gt=cutoff)
        return rows.filter(Q(next_attempt_at__isnull=False) | Q(created_at__lte=cutoff)).count()

    return _gauge(
        "orderdesk_outbox_overdue",
        "Outbox rows still undelivered longer than a task may run after they fell due "
        "(the relay wakes them again).",
        [
            ("email", overdue(OutboundEmail, EmailStatus.PENDING)),
            ("crm", overdue(CrmMessage, CrmMessageStatus.PENDING)),
        ],
        "outbox",
    )


def _tasks_stale(moment):
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    stale = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=moment - stale_after()
    ).count()
    return _gauge(
        "orderdesk_tasks_stale",
        "Background tasks RUNNING longer than any task takes: their worker died.",
        [(None, stale)],
    )


FAMILIES = (
    _live_orders_by_state,
    _unpaid_by_group,
    _authorizations_expiring,
    _authorizations_unknown,
    _holds_awaiting_release,
    _browser_holds_unrecorded,
    _gateway_steps_stuck,
    _crm_messages,
    _tasks_pending,
    _outbox_overdue,
    _tasks_stale,
)


class OrderdeskCollector(Collector):
    """Reads the figures from the database at each scrape (nothing is kept in memory, so
    every web process answers the same)."""

    def collect(self):
        moment = now()
        for family in FAMILIES:
            produced = family(moment)
            yield from produced if isinstance(produced, tuple) else (produced,)


def metrics_collect() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OrderdeskCollector())
    return generate_latest(registry)


@never_cache
@require_GET
def metrics(request):
    if not _allowed(request):
        response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(metrics_collect(), content_type=CONTENT_TYPE_LATEST)
