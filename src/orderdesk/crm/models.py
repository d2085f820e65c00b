from django.db import models


class CrmMessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class CrmMessage(models.Model):
    """Outbox row for the CRM: written in the transaction of the change that causes it."""

    topic = models.CharField(max_length=60, help_text="e.g. order.replaced")
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
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.topic} ({self.status})"
