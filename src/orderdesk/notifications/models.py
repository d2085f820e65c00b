from django.db import models


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class OutboundEmail(models.Model):
    """Outbox row for one e-mail: written in the transaction of the change that causes it.

    The message is rendered when it is queued, so what the worker sends, what staff read on
    the recent e-mails page and what the customer receives are the same text.
    """

    dedupe_key = models.CharField(max_length=120, unique=True, help_text="one e-mail per event")
    template = models.CharField(max_length=60)
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The task last enqueued to deliver this row (orderdesk.common.outbox): the relay wakes
    # the row again when that task is missing, failed or stale.
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"], name="email_recent")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to} ({self.status})"
