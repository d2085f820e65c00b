from django.db import models
from django.db.models import Q


class CrmMessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"
    SUPERSEDED = "superseded", "Superseded by a later sync"


# The order as it is now (crm.sync): the first one an order sends, and every later one.
SYNC_CREATED = "order.created"
SYNC_UPDATED = "order.updated"
SYNC_TOPICS = [SYNC_CREATED, SYNC_UPDATED]


class CrmMessage(models.Model):
    """Outbox row for the CRM: written in the transaction of the change that causes it."""

    topic = models.CharField(max_length=60, help_text="e.g. order.replaced, order.updated")
    payload = models.JSONField(default=dict)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dedupe_key = models.CharField(max_length=120, unique=True, help_text="one message per event")
    status = models.CharField(
        max_length=20, choices=CrmMessageStatus.choices, default=CrmMessageStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    remote_id = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=300, blank=True)
    # A delivery in progress holds the message until then (a lease, see crm.delivery).
    claimed_until = models.DateTimeField(null=True, blank=True)
    # After a failure: the retry is queued for this time; earlier runs leave it alone.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The task last enqueued to deliver this row (orderdesk.common.outbox): the relay wakes
    # the row again when that task is missing, failed or stale.
    task_id = models.CharField(max_length=64, blank=True)
    # A sync (SYNC_TOPICS): the order's crm_version its payload was taken at, set when
    # claimed, so that everything that changed while it waited goes in one message.
    version = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("retry_crmmessage", "Retry a CRM message that failed")]
        constraints = [
            # One waiting sync per order: later changes join it instead of queueing more.
            models.UniqueConstraint(
                fields=["order"],
                name="crm_one_waiting_sync_per_order",
                condition=Q(status="pending", topic__in=SYNC_TOPICS),
            ),
        ]
        indexes = [
            # The relay, the supervisors' screen and /metrics read only the open messages,
            # however many delivered ones the table keeps.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="crm_message_open",
                condition=Q(status__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.status})"

    @property
    def is_sync(self) -> bool:
        return self.topic in SYNC_TOPICS

    @property
    def event_id(self) -> str:
        """What the receiver de-duplicates on: a sync's is its order and version, so a
        retry of the same picture is dropped and a newer picture is not."""
        if self.is_sync and self.version is not None:
            return f"order.sync:{self.order_id}:v{self.version}"
        return self.dedupe_key
