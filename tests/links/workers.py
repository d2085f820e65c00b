"""Background work the link tests wait for, as `orderdesk worker` would do it."""

from django.core.management import call_command


def voids_delivered() -> None:
    """Run the worker over every queue but e-mail and CRM until it is empty: whatever voids
    are queued reach the gateway (where voids are sent at once, this finds nothing to do)."""
    call_command(
        "db_worker",
        queue_name="*",
        exclude_queues="email,crm",
        batch=True,
        startup_delay=False,
        reload=False,
        verbosity=0,
    )
