"""Periodic upkeep the worker runs on a schedule: each job is idempotent and safe to overlap."""

from __future__ import annotations

import logging

from django.db import close_old_connections, connection
from django.utils.module_loading import import_string

logger = logging.getLogger("orderdesk.maintenance")

JOBS = [
    "orderdesk.payments.sweep.authorizations_expire",
    "orderdesk.payments.services.authorizations_reconcile_unknown",
    "orderdesk.links.services.links_expire",
    "orderdesk.links.services.browser_holds_adopt",
    "orderdesk.notifications.services.emails_relay",
    "orderdesk.crm.delivery.crm_messages_relay",
    "orderdesk.payments.services.void_steps_relay",
    "orderdesk.payments.services.void_steps_reconcile",
    "orderdesk.workflows.shipping.shipments_reconcile",
    "orderdesk.crm.sync.crm_syncs_relay",
]


def maintenance_run() -> dict[str, int]:
    results = {}
    for dotted in JOBS:
        try:
            results[dotted.rsplit(".", 1)[1]] = import_string(dotted)()
        except Exception:  # one failing job must not stop the others
            logger.exception("maintenance job %s failed", dotted)
    if not connection.in_atomic_block:
        # Between runs the worker drops stale connections; a caller's transaction is left alone.
        close_old_connections()
    return results
