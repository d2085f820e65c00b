from django.conf import settings
from django.db import models
from django.db.models import Q


class LinkPurpose(models.TextChoices):
    REAUTHORIZATION = "reauthorization", "Re-authorization (Approve Order Payment)"
    PRICE_INCREASE = "price_increase", "Price increase (new cart)"


class LinkStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    FAILED = "failed", "Failed (locked)"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class PaymentLink(models.Model):
    """The customer's cart: a long random token, stored only as its hash."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="payment_links"
    )
    purpose = models.CharField(max_length=20, choices=LinkPurpose.choices)
    proposed_lines = models.JSONField(default=list, blank=True)
    proposed_total = models.BigIntegerField(null=True, blank=True)
    amount = models.BigIntegerField(
        help_text="Amount the customer is asked to authorize, minor units"
    )
    currency = models.CharField(max_length=3)
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField()
    status = models.CharField(max_length=20, choices=LinkStatus.choices, default=LinkStatus.OPEN)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    # Set while one request is paying with this link (compare-and-set), so that double
    # clicks and a second tab never authorize twice; cleared when the attempt ends.
    processing_since = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    result_order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one open link per order; a new one revokes the old.
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="open"), name="one_open_link_per_order"
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="link_open_expiry", condition=Q(status="open"))
        ]

    def __str__(self) -> str:
        return f"{self.purpose} link for {self.order_id} ({self.status})"
